"""Command line: ``python -m numfit demo`` and ``python -m numfit bench``."""
import argparse
import os
import subprocess
import sys


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m numfit", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="run the demonstration of every algorithm")
    d.add_argument("--out", default=".", help="folder for the PNG figures (default: .)")
    d.add_argument("--quick", action="store_true", help="smaller check grids")
    d.add_argument("--only", nargs="*", help="run only these sections")
    b = sub.add_parser("bench", help="run the benchmark suite (needs a source checkout)")
    b.add_argument("--quick", action="store_true", help="CI quick mode")
    b.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = p.parse_args(argv)
    if args.cmd == "demo":
        from ._demo import run
        run(args.out, quick=args.quick, only=args.only)
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
