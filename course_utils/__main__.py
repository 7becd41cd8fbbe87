"""Command line: python -m course_utils
{lab,test,doctor,prefetch,build-kit,strip-notebooks,student-copies,colab-setup}.

`lab` and `test` (also `test --colab`) run with any Python (standard library only) and make the
course environment; the others run inside it.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("lab", help="open the course in JupyterLab at notebook 00 (makes the "
                   "environment on first use); other arguments go to jupyter lab")
    test = sub.add_parser("test", help="run every test and notebook offline (makes the "
                          "environment on first use); other arguments go to pytest")
    test.add_argument("--colab", action="store_true",
                      help="instead, execute every notebook offline with Colab's versions of "
                      "transformers, datasets and ipywidgets, in .venv-colab/")
    sub.add_parser("doctor", help="check this environment: one [OK]/[WARN]/[FAIL] line per item")
    sub.add_parser("prefetch", help="download every Hub model and data set the course uses")
    build = sub.add_parser("build-kit", help="build the offline stand-ins that are not built yet")
    build.add_argument("names", nargs="*", help="stand-ins to build (default: all)")
    build.add_argument("--force", action="store_true", help="rebuild even when whole")
    strip = sub.add_parser("strip-notebooks",
                           help="remove outputs except those of cells nbval checks")
    strip.add_argument("paths", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    students = sub.add_parser("student-copies", help="write the notebooks without their "
                              "solutions (checks kept) into a folder; notebooks/ is untouched")
    students.add_argument("--out", default="students", help="folder to write (default: students)")
    students.add_argument("paths", nargs="*", help="notebooks (default: notebooks/*.ipynb)")
    colab = sub.add_parser("colab-setup", help="install the course packages that are missing, "
                           "changing no installed one (what the notebooks' setup cell does)")
    colab.add_argument("--dry-run", action="store_true", help="only say what it would install")
    args, extra = parser.parse_known_args(argv)

    if args.command in ("lab", "test"):
        from course_utils.repo import launcher

        if args.command == "lab":
            return launcher.lab(extra)
        return launcher.colab_lane(extra) if args.colab else launcher.test(extra)
    if extra:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    if args.command == "doctor":
        from course_utils.env.doctor import run_doctor

        return run_doctor()
    if args.command == "prefetch":
        from course_utils.offline.prefetch import prefetch

        return prefetch()
    if args.command == "build-kit":
        from course_utils.offline.kit import build_kit

        try:
            build_kit(args.names or None, force=args.force)
        except KeyError as error:
            print(f"build-kit: {error.args[0]}", file=sys.stderr)
            return 2
        return 0
    if args.command == "colab-setup":
        from course_utils.env.colab import colab_setup

        return colab_setup(dry_run=args.dry_run)
    if args.command == "student-copies":
        from course_utils.repo.student_copies import build_student_copies

        try:
            written = build_student_copies(args.out, args.paths or None)
        except ValueError as error:
            print(f"student-copies: {error}", file=sys.stderr)
            return 2
        print(f"wrote {len(written)} student notebooks to {args.out}/ (solutions removed)")
        return 0
    from course_utils.repo.notebook_files import strip_notebooks

    return strip_notebooks(args.paths)


if __name__ == "__main__":
    sys.exit(main())
