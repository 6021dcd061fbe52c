"""Seeded crash soak for `imr-extract run --resume` (`make chaos`; not collected by pytest).

The README promises that a run killed at any moment is finished by `--resume` with no document
lost or counted twice. This soak checks that promise the hard way: it builds an input tree (the
corpus copied `--copies` times under distinct doc_ids, plus bad files), makes one clean
reference run, then for each cycle starts a fresh run with a random `--batch-size` and
`--n-process`, SIGKILLs the main process, one worker or both at a random moment, and resumes
(sometimes killing again, each time with new random settings) until a resume finishes. The
finished tables must equal the reference's, row for row.

Findings it counts, since each one is a way the promise can break:
- hung runs: a run whose processes used no CPU for `--stall` seconds (or ran past `--timeout`);
  a killed pool worker can leave the main process waiting forever. The run's process group is
  killed and the cycle goes on with a resume.
- orphaned workers: workers still alive 5 s after their main process was killed. They may keep
  writing parts beside the resume; the soak leaves them alone until the cycle ends (the tool,
  not the soak, must make them die), then kills them so the machine stays clean.
- crashed runs: a run that exited by itself with a traceback.

Runs are started as `python -m imr_extract.cli`, each in its own session, and processes are
found through /proc (Linux only). The work folder is rebuilt on every invocation; the folders
of mismatched cycles are kept there for a look.

    python tests/chaos_soak.py [--seed N] [--cycles 20] [--copies 4] [--corpus ../shared/corpus]
                               [--work out/chaos] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from imr_extract.export import TABLES  # every table of a run

POLL_S = 0.5
ORPHAN_GRACE_S = 5.0
MAX_RUNS_PER_CYCLE = 8


# --- processes, through /proc ---------------------------------------------------------------


@dataclass
class Proc:
    pid: int
    ppid: int
    sid: int
    state: str
    cpu: int  # utime + stime, clock ticks


def processes() -> list[Proc]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces
        out.append(
            Proc(
                int(name),
                int(fields[1]),
                int(fields[3]),
                fields[0],
                int(fields[11]) + int(fields[12]),
            )
        )
    return out


def alive_in_session(sid: int) -> list[Proc]:
    """Every live process a run started: each run gets its own session (start_new_session),
    and its forked workers keep that session even once their parent is gone."""
    return [p for p in processes() if p.sid == sid and p.state not in "ZX"]


def kill_session(sid: int) -> int:
    procs = alive_in_session(sid)
    for p in procs:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(procs)


# --- one run of the tool ---------------------------------------------------------------------


@dataclass
class Outcome:
    rc: int | None  # None: hung (killed by the soak after a stall or the timeout)
    killed: str = ""  # what the soak killed: "", "main", "worker", "both", "worker->main"
    orphans: int = 0
    crashed: bool = False
    seconds: float = 0.0
    stderr_tail: str = ""


@dataclass
class Soak:
    inputs: Path
    timeout: float
    stall: float
    log_dir: Path
    rng: random.Random
    sessions: list[int] = field(default_factory=list)
    n_runs: int = 0

    def run(
        self, out: Path, args: list[str], kill: str = "", after_lines: int = 0, extra_s: float = 0.0
    ) -> Outcome:
        """One `imr-extract run`; with `kill`, SIGKILL once the journal has grown by
        `after_lines` lines and `extra_s` more seconds have passed (unless it ends first)."""
        self.n_runs += 1
        log = self.log_dir / f"run{self.n_runs:03d}.stderr"
        cmd = [
            sys.executable,
            "-m",
            "imr_extract.cli",
            "run",
            str(self.inputs),
            "--out",
            str(out),
            "--quiet",
            *args,
        ]
        start = time.monotonic()
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
        self.sessions.append(proc.pid)
        journal = out / "journal.jsonl"
        lines0 = journal_lines(journal)
        kill_at = None
        cpu_seen: dict[int, int] = {}
        busy_ticks, last_busy = 0, start
        outcome = Outcome(rc=None)
        while True:
            rc = proc.poll()
            if rc is not None:
                outcome.rc = rc
                break
            now = time.monotonic()
            if kill and kill_at is None and journal_lines(journal) - lines0 >= after_lines:
                kill_at = now + extra_s
            if kill and kill_at is not None and now >= kill_at:
                outcome.killed, kill = self._kill(proc.pid, kill), ""
                if outcome.killed != "worker":
                    proc.wait()
                    outcome.rc = proc.returncode
                    time.sleep(ORPHAN_GRACE_S)
                    outcome.orphans = len(alive_in_session(proc.pid))
                    break
                # a worker alone: the main must notice and finish, fail or hang
            # hang: the run's processes burn no CPU (a live run is always parsing something)
            for p in alive_in_session(proc.pid):
                busy_ticks += max(0, p.cpu - cpu_seen.get(p.pid, 0))
                cpu_seen[p.pid] = p.cpu
            if busy_ticks >= 50:  # half a second of CPU since the last mark
                busy_ticks, last_busy = 0, now
            if now - last_busy > self.stall or now - start > self.timeout:
                kill_session(proc.pid)
                proc.wait()
                break
            time.sleep(POLL_S)
        outcome.seconds = time.monotonic() - start
        tail = log.read_text(errors="replace")[-2000:]
        outcome.crashed = outcome.rc is not None and outcome.rc > 0 and "Traceback" in tail
        outcome.stderr_tail = tail
        return outcome

    def _kill(self, main: int, what: str) -> str:
        workers = [p.pid for p in alive_in_session(main) if p.ppid == main]
        if what in ("worker", "both") and not workers:
            what = "worker->main"  # no pool (yet, or any more): the main is all there is
        if what in ("worker", "both"):
            os.kill(self.rng.choice(workers), signal.SIGKILL)
        if what != "worker":
            os.kill(main, signal.SIGKILL)
        return what

    def cleanup(self) -> int:
        """Kill what the cycle's runs left behind; return how many there were."""
        left = sum(kill_session(sid) for sid in self.sessions)
        self.sessions.clear()
        return left


def journal_lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return 0


# --- inputs and tables -----------------------------------------------------------------------


def build_inputs(corpus: Path, work: Path, copies: int, rng: random.Random) -> Path:
    """The corpus `copies` times (c0/ … with doc_ids suffixed -c0 …) plus bad files: every
    kind of input whose error row must also survive the kills."""
    inputs = work / "inputs"
    letters = sorted(p for p in corpus.rglob("*") if p.suffix.lower() in (".txt", ".pdf"))
    if not letters:
        sys.exit(f"chaos: no letters under {corpus}")
    for k in range(copies):
        for src in letters:
            dst = inputs / f"c{k}" / src.parent.relative_to(corpus) / f"{src.stem}-c{k}{src.suffix}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    bad = inputs / "bad"
    bad.mkdir(parents=True)
    pdf = next(p for p in letters if p.suffix == ".pdf")
    txt = next(p for p in letters if p.suffix == ".txt")
    (bad / "empty.txt").write_bytes(b"")
    (bad / "junk-pdf.pdf").write_bytes(rng.randbytes(20_000))
    (bad / "junk-text.txt").write_bytes(rng.randbytes(5_000))
    data = pdf.read_bytes()
    (bad / "truncated.pdf").write_bytes(data[: len(data) // 2])
    letter = txt.read_text(encoding="utf-8").replace("the", "thé", 3)
    (bad / "cp1252-letter.txt").write_bytes(letter.encode("cp1252", errors="replace"))
    (bad / "not-a-letter.txt").write_text(
        "Minutes of the garden club.\n\nWe planted tulips.\n" * 40
    )
    # the same doc_id as a letter of c0/, in a folder sorted after it
    dup = inputs / "z-dup" / f"{pdf.stem}-c0{pdf.suffix}"
    dup.parent.mkdir(parents=True)
    shutil.copyfile(pdf, dup)
    return inputs


def read_tables(out: Path) -> dict | None:
    import pandas as pd

    tables = {}
    for name in TABLES:
        path = out / f"{name}.csv"
        if not path.exists():
            return None
        tables[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
    return tables


def compare(ref: dict, out: Path) -> tuple[list[str], int, int]:
    """Differences from the reference (empty: equal row for row), the documents.csv row
    count, and the duplicated documents (doc_ids present more often than in the reference)."""
    got = read_tables(out)
    if got is None:
        return ["tables missing"], 0, 0
    problems = []
    want_ids, got_ids = Counter(ref["documents"]["doc_id"]), Counter(got["documents"]["doc_id"])
    dups = sum(n - want_ids[d] for d, n in got_ids.items() if d in want_ids and n > want_ids[d])
    missing, extra = set(want_ids) - set(got_ids), set(got_ids) - set(want_ids)
    if missing or extra or dups:
        problems.append(
            f"documents: missing={len(missing)} extra={len(extra)} duplicated={dups}"
            + (f" e.g. {sorted(missing)[:3]}" if missing else "")
        )
    for name in TABLES:
        a, b = ref[name], got[name]
        if list(a.columns) != list(b.columns):
            problems.append(f"{name}: columns differ")
            continue
        if a.equals(b):
            continue
        rows_a = Counter(map(tuple, a.itertuples(index=False)))
        rows_b = Counter(map(tuple, b.itertuples(index=False)))
        if rows_a == rows_b:
            problems.append(f"{name}: same rows, other order")
        else:
            lost, added = rows_a - rows_b, rows_b - rows_a
            problems.append(
                f"{name}: {len(b)} rows vs {len(a)}, {sum(lost.values())} missing,"
                f" {sum(added.values())} extra"
            )
    problems += check_manifest(out, got)
    return problems, len(got["documents"]), dups


def check_manifest(out: Path, got: dict) -> list[str]:
    try:
        counts = json.loads((out / "manifest.json").read_text())["counts"]
    except (OSError, ValueError, KeyError):
        return ["manifest.json missing or unreadable"]
    docs = got["documents"]
    seen = {
        "documents": len(docs),
        "ok": int((docs["status"] == "ok").sum()),
        "error": int((docs["status"] == "error").sum()),
        "decisions": len(got["decisions"]),
    }
    wrong = [f"{k} {counts.get(k)}!={v}" for k, v in seen.items() if counts.get(k) != v]
    return [f"manifest: {', '.join(wrong)}"] if wrong else []


# --- the soak --------------------------------------------------------------------------------


def settings(rng: random.Random, workers: bool) -> list[str]:
    """A random --batch-size and --n-process (at least 2 when a worker is to be killed)."""
    n = rng.randint(2, 3) if workers else rng.randint(1, 3)
    return ["--batch-size", str(rng.randint(1, 80)), "--n-process", str(n)]


def cycle(soak: Soak, rng: random.Random, out: Path, n_docs: int, stats: Counter) -> list[str]:
    """Kill a fresh run, then resume (maybe killing again) until a resume finishes."""
    events = []
    kill = rng.choice(["main", "worker", "both"])
    resume: list[str] = []
    for attempt in range(MAX_RUNS_PER_CYCLE):
        if attempt and (len(events) >= 3 or rng.random() >= 0.35):
            kill = ""
        args = settings(rng, kill in ("worker", "both"))
        after = rng.randint(0, max(1, n_docs - journal_lines(out / "journal.jsonl")))
        result = soak.run(out, [*args, *resume], kill, after, rng.uniform(0, 3))
        resume = ["--resume"]
        ended = "hung" if result.rc is None else f"rc={result.rc}"
        what = {"": ended, "worker": f"worker,{ended}"}.get(result.killed, result.killed)
        events.append(f"{what}(b={args[1]},n={args[3]},{result.seconds:.0f}s)")
        stats["orphaned_workers"] += result.orphans
        if result.orphans:
            events[-1] += f"+{result.orphans}orphans"
        if result.rc is None:
            stats["hung_runs"] += 1
            kill = ""
        elif result.crashed:
            stats["crashed_runs"] += 1
            last = result.stderr_tail.strip().splitlines()[-1:]
            events[-1] += f" crash: {last[0][:120] if last else ''}"
        elif result.killed in ("", "worker") and result.rc in (0, 1):
            return events
    events.append("never finished")
    return events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--work", default="out/chaos", help="rebuilt on every invocation")
    parser.add_argument(
        "--stall",
        type=float,
        default=60.0,
        help="seconds without CPU use after which a run counts as hung",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="hard limit per run (default: 4x the clean run, at least 300 s)",
    )
    parser.add_argument("--quick", action="store_true", help="3 cycles over 1 copy: a try-out")
    args = parser.parse_args(argv)
    if args.quick:
        args.cycles, args.copies = 3, 1
    rng = random.Random(args.seed)
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    inputs = build_inputs(Path(args.corpus), work, args.copies, rng)
    soak = Soak(inputs, args.timeout or 3600, args.stall, work / "logs", random.Random(args.seed))

    t0 = time.monotonic()
    ref_out = work / "ref"
    result = soak.run(ref_out, ["--n-process", "2"])
    soak.cleanup()
    ref = read_tables(ref_out) if result.rc in (0, 1) else None
    if ref is None:
        print(f"chaos: the clean reference run failed (rc={result.rc}):\n{result.stderr_tail}")
        return 2
    expected = len(ref["documents"])
    soak.timeout = args.timeout or max(300.0, 4 * result.seconds)
    print(
        f"chaos: reference run {expected} documents in {result.seconds:.0f}s; "
        f"per-run timeout {soak.timeout:.0f}s, stall {soak.stall:.0f}s",
        flush=True,
    )

    stats: Counter = Counter()
    in_tables = []
    for k in range(args.cycles):
        out = work / f"cycle{k:02d}"
        events = cycle(soak, rng, out, expected, stats)
        left = soak.cleanup()
        if left:
            events.append(f"(cleanup killed {left} leftover processes)")
        problems, n_rows, dups = compare(ref, out)
        in_tables.append(n_rows)
        stats["duplicates"] += dups
        stats["mismatched_cycles"] += bool(problems)
        verdict = "ok" if not problems else "MISMATCH " + "; ".join(problems)
        print(f"cycle {k:2d}: {' '.join(events)} -> {verdict}", flush=True)
        if not problems:
            shutil.rmtree(out)

    print(
        f"chaos: seed={args.seed} cycles={args.cycles} copies={args.copies}"
        f" documents_expected={expected} documents_in_tables={min(in_tables, default=0)}"
        f" duplicates={stats['duplicates']} mismatched_cycles={stats['mismatched_cycles']}"
        f" hung_runs={stats['hung_runs']} crashed_runs={stats['crashed_runs']}"
        f" orphaned_workers={stats['orphaned_workers']} seconds={time.monotonic() - t0:.0f}"
    )
    failed = stats["mismatched_cycles"] or stats["hung_runs"] or stats["duplicates"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
