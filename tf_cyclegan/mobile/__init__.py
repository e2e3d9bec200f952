"""Phone-size generators: the student family and distillation from a teacher run."""
