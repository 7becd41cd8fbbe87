import subprocess
import sys


def test_import_is_cheap_and_silent():
    code = ("import sys, course_utils; heavy = [m for m in ('torch', 'transformers', "
            "'matplotlib', 'datasets', 'huggingface_hub', 'numpy') if m in sys.modules]; "
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout == "[]\n" and done.stderr == ""


def test_lazy_exports_resolve():
    import course_utils

    assert callable(course_utils.setup) and callable(course_utils.resolve)
    assert set(course_utils.__all__) <= set(dir(course_utils))
