"""Distilling a teacher run into phone-size students: the objective, the training state
(``distiller``) and the run setup (``distill_lib``), on ``training``'s loop."""
