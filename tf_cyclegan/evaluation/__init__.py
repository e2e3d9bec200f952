"""Evaluation: the published protocol (``evaluate_lib``), FID/KID (``fid``) in InceptionV3
features (``inception``), image metrics (``metrics``)."""
