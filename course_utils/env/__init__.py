"""The learner's environment: the device and what it can do (`device`), installed packages
against the course's requirements (`packages`), seeds and quiet logs (`reproducibility`), the
`doctor` report and the Colab set-up cell (`colab`)."""
