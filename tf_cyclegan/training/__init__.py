"""Training: the objective (``losses``), history pools, schedules, distribution, the training
state (``state``, ``cyclegan``), summaries and the loop (``train_lib``)."""
