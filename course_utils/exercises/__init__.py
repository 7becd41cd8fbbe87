"""The exercises: the grading engine (`grading`: `check`, the `exercise` registry, answer
parsers), graders shared between notebooks (`shared`), and one module of graders per notebook
(`nb00` ... `nb10`), each holding the inputs its exercises give the learner."""
