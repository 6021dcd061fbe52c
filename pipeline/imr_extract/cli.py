"""The `imr-extract` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imr_extract.ingest import DEFAULT_MAX_BYTES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imr-extract", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="annotate letters (.txt/.pdf files or folders) into tables")
    run.add_argument("inputs", nargs="+", help="files or folders (searched recursively)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--n-process", type=int, default=1, help="worker processes (default 1)")
    run.add_argument(
        "--format",
        choices=["csv", "parquet", "both", "docbin"],
        default="csv",
        help="tables as CSV, Parquet or both; docbin: CSV plus the spaCy Docs",
    )
    run.add_argument("--model", default=None, help="pipeline directory (default: built-in rules)")
    run.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help="files larger than this are reported as errors",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--resume",
        action="store_true",
        help="finish a run that was stopped: only documents not done (or changed)",
    )
    run.add_argument("--backend", choices=["local", "dask"], default="local")
    run.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address (default: a LocalCluster of --n-process workers)",
    )
    run.add_argument("--batch-size", type=int, default=64, help="documents per part (default 64)")
    run.add_argument(
        "--excel-safe",
        action="store_true",
        help="prefix CSV text cells starting with = + - @ with ' (spreadsheet formula guard)",
    )

    build = sub.add_parser("build", help="write the pipeline directory that spacy.load() opens")
    build.add_argument("out", help="directory to write, e.g. models/imr_pipeline")

    show = sub.add_parser("show", help="one letter as an HTML page: entities and decisions")
    show.add_argument("letter", help="a .txt or .pdf letter")
    show.add_argument("--out", default=None, help="HTML file (default: DOC_ID.html here)")
    show.add_argument("--model", default=None)

    report = sub.add_parser("report", help="one self-contained HTML report of a finished run")
    report.add_argument("out_dir", help="the --out folder of a run")
    report.add_argument("--out", default=None, help="HTML file (default: OUT_DIR/report.html)")

    bench = sub.add_parser(
        "bench",
        help="words/second and memory of every stage against spaCy and medspaCy, same letters",
    )
    bench.add_argument("--corpus", default="../shared/corpus")
    bench.add_argument(
        "--docs",
        type=int,
        default=300,
        help="letters (the corpus repeated) for every configuration, medspaCy included",
    )
    bench.add_argument(
        "--n-process",
        type=int,
        nargs="*",
        default=[1, 2, 4],
        help="process counts for the scaling runs of `imr-extract run` (none to skip)",
    )
    bench.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="--batch-size of the runs: small enough that every worker has parts to the end",
    )
    bench.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times each comparison is measured, in turn (ratios: the median round's)",
    )

    ev = sub.add_parser("eval", help="score the pipeline against gold annotations")
    ev.add_argument("--gold", default="annotations/decisions.jsonl")
    ev.add_argument("--corpus", default="../shared/corpus")
    ev.add_argument("--citations", default="annotations/citations.jsonl")
    ev.add_argument("--entities", default="annotations/entities.jsonl")
    ev.add_argument("--reasons", default="annotations/reasons.jsonl")
    ev.add_argument("--diagnosis-codes", default="annotations/diagnosis_codes.jsonl")
    ev.add_argument("--items", default="annotations/items.jsonl")
    ev.add_argument("--diagnosis-codes-second", default="annotations/diagnosis_codes_second.jsonl")
    ev.add_argument("--procedures", default="annotations/procedures.jsonl")
    ev.add_argument(
        "--reasons-second",
        default="annotations/reasons_second.jsonl",
        help="a second, independent annotation of reason codes: agreement, the rules against it",
    )
    ev.add_argument(
        "--items-second",
        default="annotations/items_second.jsonl",
        help="a second, independent reading of each decision's body part: agreement, rules vs it",
    )
    ev.add_argument(
        "--decision-links",
        default="annotations/decision_links.jsonl",
        help="the diagnoses linked to each decision and its primary diagnosis, read by hand",
    )
    ev.add_argument("--model", default=None)
    ev.add_argument(
        "--compare-lexicons",
        action="store_true",
        help="also score MEDICATION with the base drug dictionary, the WC supplement, and both",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit codes: 0 done, 1 the run failed (no document ok, disk full, tables disagree),
    2 a usage error, 130 interrupted. Every error is one line on stderr."""
    import os

    args = _parser().parse_args(argv)
    try:
        return _command(args)
    except KeyboardInterrupt:
        again = " run again with --resume" if args.command == "run" else ""
        print(f"imr-extract: interrupted;{again or ' nothing was written'}", file=sys.stderr)
        return 130
    except Exception as exc:  # anything unforeseen: still one line, and how to see more
        if os.environ.get("IMR_EXTRACT_TRACEBACK"):
            raise
        hint = "; run again with --resume" if args.command == "run" else ""
        return _fail(
            f"{args.command} failed: {type(exc).__name__}: {exc}{hint} "
            "(IMR_EXTRACT_TRACEBACK=1 shows the traceback)",
            1,
        )


def _fail(message: str, code: int) -> int:
    print(f"imr-extract: {' '.join(str(message).split())}", file=sys.stderr)
    return code


def _command(args) -> int:
    reader = None
    if args.command == "run" and args.backend == "local" and not args.resume:
        from imr_extract.read_ahead import start_for_run

        # forked before spaCy is imported: it reads while this process imports and loads
        reader = start_for_run(
            args.inputs, args.out, args.n_process, args.batch_size, args.max_bytes
        )
    if args.command == "run":
        from imr_extract.runner import RunExistsError, UsageError, run
        from imr_extract.store import RunLockedError
        from imr_extract.workers import BatchFailed

        try:
            result = run(
                args.inputs,
                args.out,
                n_process=args.n_process,
                fmt=args.format,
                model=args.model,
                max_bytes=args.max_bytes,
                progress=not args.quiet,
                resume=args.resume,
                backend=args.backend,
                scheduler=args.scheduler,
                batch_size=args.batch_size,
                excel_safe=args.excel_safe,
                reader=reader,
            )
        except (RunExistsError, UsageError, RunLockedError) as exc:
            return _fail(exc, 2)
        except BatchFailed as exc:
            return _fail(_write_error(exc.error, args.out), 1)
        except OSError as exc:
            return _fail(_write_error(exc, args.out), 1)
        counts = result.manifest["counts"]
        print(
            f"{counts['documents']} documents: {counts['ok']} ok, {counts['error']} error; "
            f"{counts['decisions']} decisions; {result.manifest['seconds']:.1f}s"
        )
        for path in result.files:
            print(f"  {path}")
        errors = [d for d in result.manifest["documents"] if d["status"] == "error"]
        for d in errors[:20]:
            print(f"  error: {d['doc_id']}: {d['error']}", file=sys.stderr)
        for problem in result.problems:
            _fail(f"the tables disagree with the journal: {problem}", 1)
        return 0 if counts["ok"] and not result.problems else 1
    if args.command == "build":
        from imr_extract.api import build_pipeline, save_pipeline

        nlp = build_pipeline()
        save_pipeline(nlp, Path(args.out))
        print(f"pipeline written to {args.out} ({', '.join(nlp.pipe_names)})")
        return 0
    if args.command == "show":
        from imr_extract.show import show

        if problem := _missing_folder(args.out):
            return _fail(problem, 2)
        try:
            print(f"wrote {show(args.letter, args.out, args.model)}")
        except ValueError as exc:
            return _fail(exc, 1)
        except OSError as exc:
            return _fail(_write_error(exc, args.out or "."), 1)
        return 0
    if args.command == "report":
        from imr_extract.report import write_report
        from imr_extract.store import RunNotFinishedError

        if problem := _missing_folder(args.out):
            return _fail(problem, 2)
        try:
            print(f"wrote {write_report(args.out_dir, args.out)}")
        except RunNotFinishedError as exc:
            return _fail(exc, 2)
        except OSError as exc:
            return _fail(_write_error(exc, args.out or args.out_dir), 1)
        return 0
    if args.command == "bench":
        from imr_extract.bench import main as bench_main

        return bench_main(args.corpus, args.docs, args.n_process, args.batch_size, args.rounds)
    if args.command == "eval":
        from imr_extract.evaluate import main as eval_main

        return eval_main(
            args.gold,
            args.corpus,
            args.model,
            args.citations,
            args.entities,
            args.compare_lexicons,
            args.reasons,
            args.diagnosis_codes,
            args.items,
            args.diagnosis_codes_second,
            args.procedures,
            args.reasons_second,
            args.items_second,
            args.decision_links,
        )
    return 2


def _missing_folder(out: str | None) -> str:
    """Why an `--out` file cannot be written (its folder does not exist), or ''."""
    if out and not Path(out).parent.is_dir():
        return f"--out {out}: folder {Path(out).parent} does not exist"
    return ""


def _write_error(exc: BaseException, out: str) -> str:
    """One line for an error of the file system: disk full names the disk and what to do."""
    import errno

    name = getattr(exc, "filename", None) or out
    full = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
    if full or "No space left on device" in str(exc):
        return (
            f"no space left on the disk of {_mount_point(Path(out))} (writing {name}); "
            "free some space, then run again with --resume"
        )
    if isinstance(exc, OSError):
        return f"cannot write {name}: {exc.strerror or exc}"
    return f"a batch failed: {type(exc).__name__}: {exc}"


def _mount_point(path: Path) -> Path:
    """The mount point of the file system that holds `path` (the disk a user must free)."""
    path = path.resolve()
    while not path.exists():
        path = path.parent
    dev = path.stat().st_dev
    while path.parent != path and path.parent.stat().st_dev == dev:
        path = path.parent
    return path


if __name__ == "__main__":
    sys.exit(main())
