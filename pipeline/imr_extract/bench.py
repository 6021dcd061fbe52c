"""`make bench`: words/second and memory, every configuration on the same N letters (the corpus
repeated), with the ratios to a bare spaCy tokenizer and to the default medspaCy pipeline taken
within the same run.

One JSON line per configuration on stdout, in this order:

- `spacy_tokenizer`: `spacy.blank("en")`, the tokenizer alone (the baseline of every ratio);
- `medspacy_default`: `medspacy.load()`, its default pipeline;
- `imr_extract_pipeline`: our full pipeline, `nlp(text)`;
- `imr_extract_text_to_rows`: `nlp(text)` and the table rows (`doc_rows`), text in, rows out;
- `imr_extract_cli`: a real `imr-extract run` over a folder of the N letters as files (PDFs
  read, tables written), start-up included, one process;
- `stages`: where the time of a run goes: ingest (`read_document`), each pipeline component,
  export (`doc_rows`), write (texts, parts and journal, then the merge; from the run's manifest);
- `imr_extract_cli_one_letter`: start-up, `imr-extract run` on one letter;
- `imr_extract_cli_n_process_N`: the run with `--n-process N`: speed-up against 1, peak RSS,
  and the private memory of each forked worker (/proc/PID/smaps_rollup, sampled every 0.2 s
  in one more run of each process count after the timed ones, whose seconds it would slow:
  `memory_run_seconds`; the reader that reads the first letters while the run loads,
  `read_ahead.py`, on its own).
  N = 1 is the run of `imr_extract_cli`. `machine_speedup_vs_1`: N processes of a pure-Python
  loop against one, measured just before (`machine_speedup`): the most this machine's cores
  give, whatever the program. The runs use small parts (`--batch-size`, 16 by
  default), so that the last part does not leave the other workers idle.

Each configuration runs in a fresh process, so that its load time and memory are its own. Both
wall-clock and CPU seconds are given. On a shared machine a neighbour can slow everything for a
minute, CPU seconds included, so comparisons are measured `--rounds` times (3) in turn: the
tokenizer, the pipeline and text → rows round after round, and the runs with every process count
(and the one-letter start-up) round after round. A ratio is the median of the ratios taken
within each round (`*_by_round` lists them); a line's other figures are its median round's.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue as queue_module
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

IN_PROCESS = (
    "spacy_tokenizer",
    "medspacy_default",
    "imr_extract_pipeline",
    "imr_extract_text_to_rows",
)
DEFAULT_BATCH_SIZE = 16  # 300 letters in 19 parts: enough to keep 4 workers busy to the end
DEFAULT_ROUNDS = 3  # the paired configurations and the runs, each measured this many times
SAMPLE_SECONDS = 0.2


def _mb(n_bytes: float) -> float:
    return round(n_bytes / 2**20, 1)


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return _mb(int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _words(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


# ---- in-process configurations ---------------------------------------------------------------


def _load(config: str):
    """The nlp object of `config`, loaded as a user would."""
    if config == "medspacy_default":
        from imr_extract.components.context import _quiet_medspacy

        _quiet_medspacy()
        import medspacy

        return medspacy.load()
    if config == "spacy_tokenizer":
        import spacy

        return spacy.blank("en")
    import imr_extract

    return imr_extract.load()


def _measure(config: str, texts: list[str], queue) -> None:
    t = time.perf_counter()
    nlp = _load(config)
    load_seconds = time.perf_counter() - t
    if config == "imr_extract_text_to_rows":
        from imr_extract.export import doc_rows
        from imr_extract.ingest import SourceDocument
    samples = []
    wall, cpu = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts, 1):
        if config == "spacy_tokenizer":
            nlp.make_doc(text)
        elif config == "imr_extract_text_to_rows":
            doc_rows(nlp(text), SourceDocument(doc_id=f"letter-{i:06d}", path="", text=text))
        else:
            nlp(text)
        if i % max(1, len(texts) // 4) == 0:
            samples.append({"docs": i, "rss_mb": _rss_mb()})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    queue.put(
        {
            "config": config,
            **_speed(len(texts), _words(texts), wall, cpu),
            "load_seconds": round(load_seconds, 2),
            "peak_rss_mb": _peak_mb(),
            "rss_over_run": samples,
        }
    )


def _interleaved(texts: list[str], queue) -> None:
    """Text → rows and the bare tokenizer in one process, letter by letter in turn (which of
    the two goes first alternates): both sides of the ratio are timed at the same moments,
    so a neighbour on a shared machine slows both alike."""
    import spacy

    import imr_extract
    from imr_extract.export import doc_rows
    from imr_extract.ingest import SourceDocument

    bare, nlp = spacy.blank("en"), imr_extract.load()
    seconds = {"spacy_tokenizer": 0.0, "imr_extract_text_to_rows": 0.0}

    def rows(i: int, text: str) -> None:
        doc_rows(nlp(text), SourceDocument(doc_id=f"letter-{i:06d}", path="", text=text))

    for i, text in enumerate(texts, 1):
        sides = [("spacy_tokenizer", bare.make_doc), ("imr_extract_text_to_rows", None)]
        for config, make in sides if i % 2 else sides[::-1]:
            t = time.perf_counter()
            if make is None:
                rows(i, text)
            else:
                make(text)
            seconds[config] += time.perf_counter() - t
    queue.put(seconds)


def _stages(paths: list[str], queue) -> None:
    """Ingest, each component and export, timed apart over the same letters."""
    import imr_extract
    from imr_extract.export import doc_rows
    from imr_extract.ingest import page_furniture, read_document

    nlp = imr_extract.load()
    furniture = page_furniture()
    seconds: Counter = Counter()
    words = 0
    for path in paths:
        t = time.perf_counter()
        source = read_document(path, furniture=furniture)
        seconds["ingest"] += time.perf_counter() - t
        words += len(source.text.split())
        t = time.perf_counter()
        doc = nlp.make_doc(source.text)
        seconds["tokenizer"] += time.perf_counter() - t
        for name, proc in nlp.pipeline:
            t = time.perf_counter()
            doc = proc(doc)
            seconds[name] += time.perf_counter() - t
        t = time.perf_counter()
        doc_rows(doc, source)
        seconds["export"] += time.perf_counter() - t
    order = ["ingest", "tokenizer", *nlp.pipe_names, "export"]
    queue.put({"docs": len(paths), "words": words, "seconds": {k: seconds[k] for k in order}})


def in_fresh_process(target, *args) -> dict:
    """`target(*args, queue)` in a new interpreter (spawn, not fork: nothing inherited)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=1)
            break
        except queue_module.Empty:
            if not proc.is_alive() and queue.empty():
                what = args[0] if isinstance(args[0], str) else target.__name__
                raise SystemExit(f"bench: {what} died (exit code {proc.exitcode})") from None
    proc.join()
    return result


def _speed(docs: int, words: int, wall: float, cpu: float | None = None) -> dict:
    out = {
        "docs": docs,
        "words": words,
        "seconds": round(wall, 3),
        "words_per_second": round(words / wall, 1),
        "docs_per_second": round(docs / wall, 2),
    }
    if cpu is not None:
        out["cpu_seconds"] = round(cpu, 3)
        out["words_per_cpu_second"] = round(words / cpu, 1)
    return out


# ---- real runs of the CLI ----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the kernel's `children` file is not always built in)."""
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _memory(pid: int) -> dict[str, int] | None:
    """Rss, Pss and Private (Private_Clean + Private_Dirty) of `pid`, in bytes."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line and "kB" in line)
    except OSError:  # gone, or not ours
        return None
    kb = {k.strip(): int(v.split()[0]) * 1024 for k, v in fields.items()}
    private = sum(v for k, v in kb.items() if k.startswith("Private_"))
    return {"rss": kb.get("Rss", 0), "pss": kb.get("Pss", 0), "private": private}


def _spin(n_iter: int) -> None:
    total = 0
    for i in range(n_iter):
        total += i * i % 7


def machine_speedup(n: int, n_iter: int = 2_000_000) -> float:
    """Throughput of `n` processes each running the same pure-Python loop, against one: what
    this machine's cores give any `--n-process n` at most (a shared VM's vCPUs may give
    less than `n`). Measured right before the run it bounds."""

    def wall(k: int) -> float:
        procs = [mp.Process(target=_spin, args=(n_iter,)) for _ in range(k)]
        start = time.perf_counter()
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        return time.perf_counter() - start

    one = min(wall(1), wall(1))
    return round(n * one / wall(n), 2)


def _wait_exit(pid: int, seconds: float) -> None:
    """Sleep `seconds`, or less if process `pid` ends first: the run's time is taken when it
    ends, not at the next sample (a plain sleep added up to SAMPLE_SECONDS to every run, a
    sixth of the one-letter start-up). Linux pidfds; elsewhere a plain sleep."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        time.sleep(seconds)
        return
    try:
        select.select([fd], [], [], seconds)
    finally:
        os.close(fd)


def run_cli(
    inputs: Path, out: Path, n_process: int, batch_size: int, sample_memory: bool = False
) -> dict:
    """One real `imr-extract run`: its wall and CPU seconds and its manifest; with
    `sample_memory`, also the memory of the run and of its forked workers, sampled every
    SAMPLE_SECONDS. Timed runs are not sampled: reading /proc/PID/smaps_rollup walks a
    process's page tables (about 11 ms of CPU for a run and its two workers), and on two cores
    that sampling slowed a two-process run by about 4% (one process, with a core to spare,
    not at all), so the memory comes from a run of its own (`memory_fields`)."""
    script = Path(sys.executable).with_name("imr-extract")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "imr_extract.cli"]
    command += [
        "run",
        str(inputs),
        "--out",
        str(out),
        "--quiet",
        "--n-process",
        str(n_process),
        "--batch-size",
        str(batch_size),
    ]
    workers: dict[int, list[dict[str, int]]] = {}
    main: list[dict[str, int]] = []
    peak_pss = 0
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if sample_memory else 0)
            if pid:
                break
            samples = {p: _memory(p) for p in [proc.pid, *_children(proc.pid)]}
            samples = {p: m for p, m in samples.items() if m}
            peak_pss = max(peak_pss, sum(m["pss"] for m in samples.values()))
            if proc.pid in samples:
                main.append(samples.pop(proc.pid))
            for p, m in samples.items():
                workers.setdefault(p, []).append(m)
            _wait_exit(proc.pid, SAMPLE_SECONDS)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            errors.seek(0)
            message = errors.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {message}")
    manifest = json.loads((out / "manifest.json").read_text())
    run = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # the run and its (reaped) workers
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # the largest of them
        "manifest": manifest,
    }
    if sample_memory:
        reader = workers.pop(manifest.get("read_ahead", {}).get("pid"), [])  # not a worker
        run["memory"] = {
            "main_rss_mb_peak": _mb(max((m["rss"] for m in main), default=0)),
            "total_pss_mb_peak": _mb(peak_pss),
            "workers": len(workers),  # the run's children seen: its forked workers
            "worker_rss_mb_peak": _peak(workers, "rss"),
            "worker_private_mb_peak": _peak(workers, "private"),
            # flat memory: the mean over workers of the first and last sample of each
            "worker_private_mb_first": _mean([s[0]["private"] for s in workers.values()]),
            "worker_private_mb_last": _mean([s[-1]["private"] for s in workers.values()]),
            # the process that reads the first letters while the run loads (read_ahead.py)
            "reader_private_mb_peak": _mb(max((m["private"] for m in reader), default=0)),
        }
    return run


def memory_fields(sampled: dict) -> dict:
    """A line's memory figures, from the sampled run of the same process count, and that
    run's seconds (slowed by the sampling: not a speed figure)."""
    return {**sampled["memory"], "memory_run_seconds": round(sampled["seconds"], 3)}


def _peak(workers: dict[int, list[dict[str, int]]], key: str) -> float | None:
    return _mb(max(m[key] for s in workers.values() for m in s)) if workers else None


def _mean(values: list[int]) -> float | None:
    return _mb(sum(values) / len(values)) if values else None


def letter_folder(paths: list[Path], folder: Path) -> Path:
    """The letters copied under `folder` with names of their own (copies, not links: a run
    reads a file reached twice only once)."""
    for i, path in enumerate(paths):
        target = folder / f"{i // 100:03d}" / f"letter-{i:06d}{path.suffix.lower()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return folder


def cli_line(config: str, run: dict, words: int, n_process: int, batch_size: int) -> dict:
    manifest = run.pop("manifest")
    docs = manifest["counts"]["documents"]
    line = {"config": config, **_speed(docs, words, run.pop("seconds"), run.pop("cpu_seconds"))}
    line["words_per_second_per_core"] = round(
        line["words_per_second"] / min(n_process, os.cpu_count() or 1), 1
    )
    line.update(
        n_process=n_process,
        batch_size=batch_size,
        cores=os.cpu_count(),
        ok=manifest["counts"]["ok"],
        timings=manifest["timings"],
        manifest_seconds=manifest["seconds"],
        **run,
    )
    return line


# ---- the bench -------------------------------------------------------------------------------


def corpus_letters(corpus: str | Path, n_docs: int) -> tuple[list[Path], list[str]]:
    """The readable letters under `corpus` repeated to `n_docs` files, and their texts."""
    from imr_extract.ingest import read_documents

    letters = [(Path(s.path), s.text) for s in read_documents([corpus]) if s.ok]
    if not letters:
        raise SystemExit(f"no readable letters under {corpus}")
    chosen = [letters[i % len(letters)] for i in range(n_docs)]
    return [p for p, _ in chosen], [t for _, t in chosen]


def _ratios(line: dict, base: dict, medspacy: dict | None) -> dict:
    line["ratio_to_spacy_tokenizer"] = round(line["words_per_second"] / base["words_per_second"], 3)
    if "words_per_cpu_second" in line:
        line["cpu_ratio_to_spacy_tokenizer"] = round(
            line["words_per_cpu_second"] / base["words_per_cpu_second"], 3
        )
    if medspacy:
        line["ratio_to_medspacy_default"] = round(
            line["words_per_second"] / medspacy["words_per_second"], 2
        )
    return line


def _print(line: dict) -> None:
    print(json.dumps(line), flush=True)


def stages_line(stages: dict, run: dict) -> dict:
    """The stages timed in-process, and the write from the run's manifest: its processing time
    less the seconds of each document (read, pipeline, export) is the writing of texts, parts
    and journal; then the merge of the parts into the tables."""
    manifest = run["manifest"]
    per_document = sum(d["seconds"] or 0 for d in manifest["documents"])
    write_parts = max(0.0, manifest["timings"]["processing"] - per_document)
    seconds = {**stages["seconds"], "write": write_parts + manifest["timings"]["merging"]}
    total = sum(seconds.values())
    return {
        "config": "stages",
        "docs": stages["docs"],
        "words": stages["words"],
        "stage_seconds": {k: round(v, 3) for k, v in seconds.items()},
        "stage_share": {k: round(v / total, 3) for k, v in seconds.items()},
        "stage_words_per_second": {
            k: round(stages["words"] / v, 1) if v else None for k, v in seconds.items()
        },
        "write_parts_seconds": round(write_parts, 3),
        "merge_seconds": manifest["timings"]["merging"],
        "seconds": round(total, 3),
        "words_per_second": round(stages["words"] / total, 1),
    }


def _median_run(runs: list[dict], key: str = "seconds") -> dict:
    """The round whose `key` is the median (the slower middle one of an even count)."""
    return dict(sorted(runs, key=lambda r: r[key])[len(runs) // 2])


def _paired(values: list[float]) -> tuple[float, list[float]]:
    """The median of per-round figures, and the figures."""
    rounded = [round(v, 3) for v in values]
    return round(statistics.median(values), 3), rounded


def main(
    corpus: str,
    n_docs: int,
    n_processes: list[int],
    batch_size: int = DEFAULT_BATCH_SIZE,
    rounds: int = DEFAULT_ROUNDS,
) -> int:
    if n_docs < 1:
        raise SystemExit("--docs must be at least 1")
    if rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    paths, texts = corpus_letters(corpus, n_docs)
    words = _words(texts)
    # the tokenizer and our two in-process configurations, in turn, round after round: each
    # ratio is taken within a round, so that a neighbour slowing the machine for a minute
    # slows both sides of it; the line shows the median round and every round's ratio
    paired = {c: [] for c in IN_PROCESS if c != "medspacy_default"}
    for _ in range(rounds):
        for config in paired:
            paired[config].append(in_fresh_process(_measure, config, texts))
    medspacy = in_fresh_process(_measure, "medspacy_default", texts)
    base = _median_run(paired["spacy_tokenizer"], "words_per_second")
    for config in IN_PROCESS:
        if config == "medspacy_default":
            _print(_ratios(dict(medspacy), base, medspacy))
            continue
        line = _ratios(_median_run(paired[config], "words_per_second"), base, medspacy)
        line["rounds"] = rounds
        line["words_per_second_rounds"] = [r["words_per_second"] for r in paired[config]]
        for key, field in (
            ("words_per_second", "ratio_to_spacy_tokenizer"),
            ("words_per_cpu_second", "cpu_ratio_to_spacy_tokenizer"),
        ):
            ratios = [
                r[key] / b[key]
                for r, b in zip(paired[config], paired["spacy_tokenizer"], strict=True)
            ]
            line[field], line[field.replace("ratio", "ratios", 1) + "_by_round"] = _paired(ratios)
        _print(line)
    # the same ratio with both sides timed letter by letter in one process, round after round
    interleaved = [in_fresh_process(_interleaved, texts) for _ in range(rounds)]
    ratios = [
        r["spacy_tokenizer"] / r["imr_extract_text_to_rows"] for r in interleaved
    ]  # seconds of the tokenizer over seconds of text → rows: the ratio of words/s
    middle = interleaved[sorted(range(rounds), key=ratios.__getitem__)[(rounds - 1) // 2]]
    line = {
        "config": "imr_extract_text_to_rows_interleaved",
        **_speed(len(texts), words, middle["imr_extract_text_to_rows"]),
        "rounds": rounds,
    }
    line["words_per_second_rounds"] = [
        round(words / r["imr_extract_text_to_rows"], 1) for r in interleaved
    ]
    line["spacy_tokenizer_words_per_second_rounds"] = [
        round(words / r["spacy_tokenizer"], 1) for r in interleaved
    ]
    line["ratio_to_spacy_tokenizer"], line["ratios_to_spacy_tokenizer_by_round"] = _paired(ratios)
    _print(line)
    stages = in_fresh_process(_stages, [str(p) for p in paths])

    folder = Path(tempfile.mkdtemp(prefix="imr-bench-"))
    try:
        letters = letter_folder(paths, folder / "in")
        one = letter_folder(paths[:1], folder / "one")
        counts = sorted({1, *n_processes})
        runs: dict[int, list[dict]] = {n: [] for n in counts}
        machine: dict[int, list[float]] = {n: [] for n in counts}
        starts = []
        for r in range(rounds):  # every process count in turn, round after round
            for n in counts:
                machine[n].append(machine_speedup(n) if n > 1 else 1.0)  # one against one
                runs[n].append(run_cli(letters, folder / f"n{n}-r{r}", n, batch_size))
            starts.append(run_cli(one, folder / f"start-r{r}", 1, batch_size))
        memory = {  # after the timed rounds, a sampled run of each process count
            n: memory_fields(run_cli(letters, folder / f"n{n}-memory", n, batch_size, True))
            for n in counts
        }
        one_process = _median_run(runs[1])
        stages = stages_line(stages, one_process)
        cli = cli_line("imr_extract_cli", {**one_process, **memory[1]}, words, 1, batch_size)
        _print(_ratios(cli, base, medspacy))
        _print(_ratios(stages, base, medspacy))
        start = _median_run(starts)
        line = cli_line("imr_extract_cli_one_letter", start, _words(texts[:1]), 1, batch_size)
        line["seconds_by_round"] = [round(s["seconds"], 3) for s in starts]
        _print(line)
        for n in n_processes:
            line = cli_line(
                f"imr_extract_cli_n_process_{n}",
                {**_median_run(runs[n]), **memory[n]},
                words,
                n,
                batch_size,
            )
            if n == 1:
                line["same_run_as"] = "imr_extract_cli"
            pairs = list(zip(runs[1], runs[n], strict=True))
            line["speedup_vs_1"], line["speedups_by_round"] = _paired(
                [a["seconds"] / b["seconds"] for a, b in pairs]
            )
            line["processing_speedup_vs_1"], _ = _paired(
                [
                    a["manifest"]["timings"]["processing"] / b["manifest"]["timings"]["processing"]
                    for a, b in pairs
                ]
            )
            line["machine_speedup_vs_1"], line["machine_speedups_by_round"] = _paired(machine[n])
            _print(_ratios(line, base, medspacy))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0
