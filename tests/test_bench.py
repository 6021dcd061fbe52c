"""`imr-extract bench` on 6 letters (the samples repeated): the lines and their keys, never the
times (a timed test on a shared machine only tests the machine)."""

from __future__ import annotations

import json

from imr_extract.cli import main

from conftest import SAMPLES

SPEED = {"config", "docs", "words", "seconds", "words_per_second", "ratio_to_spacy_tokenizer"}
MEMORY = {"peak_rss_mb", "load_seconds", "rss_over_run", "cpu_seconds", "words_per_cpu_second"}
RUN = {
    "n_process",
    "timings",
    "peak_rss_mb",
    "main_rss_mb_peak",
    "total_pss_mb_peak",
    "words_per_second_per_core",
    "workers",
    "worker_private_mb_peak",
    "worker_private_mb_first",
    "worker_private_mb_last",
}


def test_bench_lines(capsys):
    assert (
        main(
            [
                "bench",
                "--corpus",
                str(SAMPLES),
                "--docs",
                "6",
                "--n-process",
                "1",
                "2",
                "--batch-size",
                "2",
                "--rounds",
                "2",
            ]
        )
        == 0
    )
    lines = {
        line["config"]: line for line in map(json.loads, capsys.readouterr().out.split("\n")[:-1])
    }
    assert list(lines) == [
        "spacy_tokenizer",
        "medspacy_default",
        "imr_extract_pipeline",
        "imr_extract_text_to_rows",
        "imr_extract_text_to_rows_interleaved",
        "imr_extract_cli",
        "stages",
        "imr_extract_cli_one_letter",
        "imr_extract_cli_n_process_1",
        "imr_extract_cli_n_process_2",
    ]
    words = lines["spacy_tokenizer"]["words"]
    for name, line in lines.items():
        if name != "imr_extract_cli_one_letter":
            assert line["docs"] == 6 and line["words"] == words, name  # all on the same texts
            assert SPEED <= set(line), name
    for name in ("medspacy_default", "imr_extract_pipeline", "imr_extract_text_to_rows"):
        assert MEMORY | {"ratio_to_medspacy_default"} <= set(lines[name])
    assert lines["spacy_tokenizer"]["ratio_to_spacy_tokenizer"] == 1
    for name in ("imr_extract_cli", "imr_extract_cli_n_process_1", "imr_extract_cli_n_process_2"):
        assert RUN <= set(lines[name]) and lines[name]["ok"] == 6, name
    assert {"loading", "processing", "merging"} <= set(lines["imr_extract_cli"]["timings"])
    two = lines["imr_extract_cli_n_process_2"]
    assert {"speedup_vs_1", "processing_speedup_vs_1", "machine_speedup_vs_1"} <= set(two)
    assert two["machine_speedup_vs_1"] > 0 and len(two["speedups_by_round"]) == 2
    assert len(two["machine_speedups_by_round"]) == 2
    rows = lines["imr_extract_text_to_rows"]
    assert rows["rounds"] == 2 and len(rows["words_per_second_rounds"]) == 2
    by_round = rows["ratios_to_spacy_tokenizer_by_round"]
    assert len(by_round) == 2 and min(by_round) <= rows["ratio_to_spacy_tokenizer"] <= max(by_round)
    interleaved = lines["imr_extract_text_to_rows_interleaved"]
    assert interleaved["rounds"] == 2 and len(interleaved["words_per_second_rounds"]) == 2
    assert len(interleaved["spacy_tokenizer_words_per_second_rounds"]) == 2
    by_round = interleaved["ratios_to_spacy_tokenizer_by_round"]
    assert min(by_round) <= interleaved["ratio_to_spacy_tokenizer"] <= max(by_round)
    assert len(lines["imr_extract_cli_one_letter"]["seconds_by_round"]) == 2
    assert lines["imr_extract_cli_n_process_1"]["machine_speedup_vs_1"] > 0
    for name in ("imr_extract_cli", "imr_extract_cli_n_process_2"):  # from their own runs
        assert lines[name]["memory_run_seconds"] > 0, name
    # 6 small letters may be done before the 0.2 s memory sampler sees a worker
    assert two["workers"] in (0, 1, 2) and "worker_private_mb_peak" in two
    if two["workers"]:
        assert two["worker_private_mb_peak"] > 0
    stages = lines["stages"]["stage_seconds"]
    assert list(stages)[:2] == ["ingest", "tokenizer"] and list(stages)[-2:] == ["export", "write"]
    assert "imr_context" in stages or len(stages) > 5  # each component by name
    assert lines["imr_extract_cli_one_letter"]["docs"] == 1


def test_a_run_is_timed_when_it_ends_not_at_the_next_sample():
    """`_wait_exit` returns as soon as the process ends (a run's time was rounded up to the
    next memory sample), and waits the full interval while it runs."""
    import subprocess
    import sys
    import time

    from imr_extract.bench import _wait_exit

    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        start = time.perf_counter()
        _wait_exit(slow.pid, 0.3)
        assert time.perf_counter() - start >= 0.29  # still running: the whole interval
    finally:
        slow.kill()
        slow.wait()
    quick = subprocess.Popen([sys.executable, "-c", "pass"])
    start = time.perf_counter()
    _wait_exit(quick.pid, 60)
    assert time.perf_counter() - start < 30  # it ended: no minute-long wait
    quick.wait()


def test_timed_runs_are_not_sampled(tmp_path, monkeypatch):
    """Sampling memory costs CPU that a two-process run on two cores would otherwise have: the
    runs whose seconds the bench reports take no sample, the memory run does."""
    from imr_extract import bench

    reads = []
    real = bench._memory
    monkeypatch.setattr(bench, "_memory", lambda pid: reads.append(pid) or real(pid))
    letters = bench.letter_folder(sorted(SAMPLES.glob("*.txt"))[:1], tmp_path / "in")
    timed = bench.run_cli(letters, tmp_path / "timed", 1, 16)
    assert reads == [] and timed["seconds"] > 0 and timed["manifest"]["counts"]["ok"] == 1
    assert "memory" not in timed
    sampled = bench.run_cli(letters, tmp_path / "sampled", 1, 16, sample_memory=True)
    assert reads and sampled["memory"]["main_rss_mb_peak"] > 0
    fields = bench.memory_fields(sampled)
    assert {"worker_private_mb_peak", "reader_private_mb_peak", "memory_run_seconds"} <= set(fields)
