"""Command line: ``python -m numfit demo``, ``python -m numfit bench`` and
``python -m numfit config``."""
import argparse
import os
import subprocess
import sys


def _sections_epilog():
    from ._demo import SUMMARIES
    w = max(map(len, SUMMARIES))
    return "sections (in this order):\n" + "\n".join(
        f"  {name:<{w}}  {text}" for name, text in SUMMARIES.items())


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m numfit", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="run the demonstration of every algorithm (< 1 minute)",
                       description="Run the demonstration of every algorithm: a table per "
                       "section on stdout and PNG figures\n(matplotlib) in --out. The default "
                       "run takes under a minute on two cores; --full runs\nthe long versions.",
                       epilog=_sections_epilog(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--out", default=".", help="folder for the PNG figures (default: .)")
    d.add_argument("--full", action="store_true",
                   help="the long versions: larger check grids, 5000 SOR systems, more seeds "
                        "(several minutes)")
    d.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)   # the default now
    d.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")
    sub.add_parser("config", help="print numfit's version, kernel backends, dependency "
                   "versions and whether a GPU is visible")
    b = sub.add_parser("bench", help="run the benchmark suite (needs a source checkout)")
    b.add_argument("--quick", action="store_true", help="CI quick mode")
    b.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = p.parse_args(argv)
    if args.cmd == "config":
        from . import show_config
        show_config()
        return 0
    if args.cmd == "demo":
        from ._demo import SECTIONS, run
        unknown = [s for s in args.only or () if s not in SECTIONS]
        if unknown:
            d.error(f"unknown section(s) {', '.join(unknown)}; the sections are: "
                    f"{', '.join(SECTIONS)}")
        if args.full and args.quick:
            d.error("--full and --quick exclude each other (the default run is the quick one)")
        run(args.out, quick=not args.full, only=args.only)
        return 0
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bench = os.path.join(here, "benchmarks")
    if not os.path.isdir(bench):
        print("the benchmark suite lives in the source checkout's benchmarks/ folder; "
              "run this from an editable install (pip install -e .)", file=sys.stderr)
        return 2
    env = dict(os.environ, NUMFIT_BENCH_QUICK="1" if args.quick else
               os.environ.get("NUMFIT_BENCH_QUICK", "0"))
    return subprocess.call([sys.executable, "-m", "pytest", bench, *args.pytest_args], env=env)


if __name__ == "__main__":
    sys.exit(main())
