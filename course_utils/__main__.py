"""Command line: python -m course_utils {lab,test,doctor,prefetch,build-kit,strip-notebooks}.

`lab` and `test` run with any Python (standard library only) and make the course environment;
the others run inside it.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("lab", help="open the course in JupyterLab at notebook 00 (makes the "
                   "environment on first use); other arguments go to jupyter lab")
    sub.add_parser("test", help="run every test and notebook offline (makes the environment "
                   "on first use); other arguments go to pytest")
    sub.add_parser("doctor", help="check this environment: one [OK]/[WARN]/[FAIL] line per item")
    sub.add_parser("prefetch", help="download every Hub model and data set the course uses")
    build = sub.add_parser("build-kit", help="build the offline stand-ins that are not built yet")
    build.add_argument("names", nargs="*", help="stand-ins to build (default: all)")
    build.add_argument("--force", action="store_true", help="rebuild even when whole")
    strip = sub.add_parser("strip-notebooks",
                           help="remove outputs except those of cells nbval checks")
    strip.add_argument("paths", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    args, extra = parser.parse_known_args(argv)

    if args.command in ("lab", "test"):
        from course_utils import launcher

        return launcher.lab(extra) if args.command == "lab" else launcher.test(extra)
    if extra:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    if args.command == "doctor":
        from course_utils.doctor import run_doctor

        return run_doctor()
    if args.command == "prefetch":
        from course_utils.prefetch import prefetch

        return prefetch()
    if args.command == "build-kit":
        from course_utils.kit import build_kit

        try:
            build_kit(args.names or None, force=args.force)
        except KeyError as error:
            print(f"build-kit: {error.args[0]}", file=sys.stderr)
            return 2
        return 0
    from course_utils.notebooks import strip_notebooks

    return strip_notebooks(args.paths)


if __name__ == "__main__":
    sys.exit(main())
