"""`make bench`: words/second and peak memory over the shared corpus, against a bare spaCy
tokenizer, spaCy's rule sentencizer and the default medspaCy pipeline measured in the same run,
plus the time of each of our components and multi-process scaling of a real `run`.

Each configuration runs in a fresh process so that its peak RSS is its own. One JSON line per
configuration on stdout.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

CONFIGS = ("spacy_tokenizer", "spacy_sentencizer", "medspacy_default", "imr_extract")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(config: str, texts: list[str], queue) -> None:
    import spacy

    timings: Counter = Counter()
    samples = []
    if config == "imr_extract":
        import imr_extract
        from imr_extract.export import doc_rows
        from imr_extract.ingest import SourceDocument

        nlp = imr_extract.load()
    elif config == "medspacy_default":
        from imr_extract.components.context import _quiet_medspacy

        _quiet_medspacy()
        import medspacy

        nlp = medspacy.load()
    else:
        nlp = spacy.blank("en")
        if config == "spacy_sentencizer":
            nlp.add_pipe("sentencizer")
    start = time.perf_counter()
    for i, text in enumerate(texts, 1):
        if config == "spacy_tokenizer":
            nlp.make_doc(text)
        elif config == "imr_extract":
            t = time.perf_counter()
            doc = nlp.make_doc(text)
            timings["tokenizer"] += time.perf_counter() - t
            for name, proc in nlp.pipeline:
                t = time.perf_counter()
                doc = proc(doc)
                timings[name] += time.perf_counter() - t
            t = time.perf_counter()
            doc_rows(doc, SourceDocument(doc_id=str(i), path=""))
            timings["export"] += time.perf_counter() - t
        else:
            nlp(text)
        if i % max(1, len(texts) // 4) == 0:
            samples.append({"docs": i, "rss_mb": round(_rss_mb(), 1)})
    seconds = time.perf_counter() - start
    words = sum(len(t.split()) for t in texts)
    result = {
        "config": config,
        "docs": len(texts),
        "words": words,
        "seconds": round(seconds, 3),
        "words_per_second": round(words / seconds, 1),
        "docs_per_second": round(len(texts) / seconds, 2),
        "peak_rss_mb": round(_peak_mb(), 1),
        "rss_over_run": samples,
    }
    if timings:
        result["component_seconds"] = {k: round(v, 3) for k, v in timings.most_common()}
        result["slowest_component"] = timings.most_common(1)[0][0]
    queue.put(result)


def measure(config: str, texts: list[str]) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(config, texts, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def corpus_texts(corpus: str | Path, n_docs: int) -> list[str]:
    from imr_extract.ingest import read_documents

    texts = [s.text for s in read_documents([corpus]) if s.ok]
    if not texts:
        raise SystemExit(f"no readable letters under {corpus}")
    return [texts[i % len(texts)] for i in range(max(n_docs, len(texts)))]


def scaling(texts: list[str], n_processes: list[int]) -> list[dict]:
    """Real `imr-extract run` commands, each a fresh process as a user would start it, over
    the letters written as files; the manifest gives loading, processing and merging time."""
    import subprocess
    import sys

    out = []
    folder = Path(tempfile.mkdtemp(prefix="imr-bench-"))
    try:
        for i, text in enumerate(texts):
            (folder / "in" / f"{i // 100:03d}").mkdir(parents=True, exist_ok=True)
            (folder / "in" / f"{i // 100:03d}" / f"letter-{i:06d}.txt").write_text(text)
        base = base_processing = None
        for n in n_processes:
            target = folder / f"n{n}"
            command = [
                sys.executable,
                "-m",
                "imr_extract.cli",
                "run",
                str(folder / "in"),
                "--out",
                str(target),
                "--quiet",
                "--n-process",
                str(n),
            ]
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - start
            manifest = json.loads((target / "manifest.json").read_text())
            words = manifest["counts"]["words"]
            processing = manifest["timings"]["processing"]
            base = base or seconds
            base_processing = base_processing or processing
            out.append(
                {
                    "config": f"imr_extract_run_n_process_{n}",
                    "docs": len(texts),
                    "seconds": round(seconds, 2),
                    "timings": manifest["timings"],
                    "words_per_second": round(words / seconds, 1),
                    "speedup_vs_1": round(base / seconds, 2),
                    "processing_words_per_second": round(words / processing, 1),
                    "processing_speedup_vs_1": round(base_processing / processing, 2),
                    "cores": os.cpu_count(),
                }
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def main(corpus: str, n_docs: int, n_processes: list[int], medspacy_docs: int) -> int:
    texts = corpus_texts(corpus, n_docs)
    results = {}
    for config in CONFIGS:
        sample = texts[:medspacy_docs] if config == "medspacy_default" else texts
        results[config] = measure(config, sample)
    base = results["spacy_tokenizer"]["words_per_second"]
    medspacy_wps = results["medspacy_default"]["words_per_second"]
    for config in CONFIGS:
        r = results[config]
        r["ratio_to_spacy_tokenizer"] = round(r["words_per_second"] / base, 3)
        r["ratio_to_medspacy_default"] = round(r["words_per_second"] / medspacy_wps, 2)
        print(json.dumps(r), flush=True)
    if n_processes:
        for line in scaling(texts, n_processes):
            print(json.dumps(line), flush=True)
    return 0
