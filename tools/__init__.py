"""Scripts run from a checkout of the course: the benchmarks (`bench_*.py`, each prints a table
and names the command that reproduces it) and the browser driver (`browser.py`) that the browser
test in tests/ runs. Nothing here is installed with course_utils."""
