"""Tools that need a checkout of the course repository and are not installed with course_utils:
the launcher behind `python -m course_utils lab` and `test` (`launcher`), the kernel memory
limit of the tests (`kernel_limits`), the exact peak-memory budget of every notebook kernel
(`kernel_peak`, held in the notebook tests by the pytest plugin `nbval_peak`), notebook
stripping (`notebook_files`) and student copies without solutions (`student_copies`)."""
