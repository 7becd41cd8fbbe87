"""Graders for each notebook's exercises, one module per notebook (nb00, nb01, ...)."""
