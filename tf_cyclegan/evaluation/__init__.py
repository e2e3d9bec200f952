"""Evaluation: the published protocol (``evaluate_lib``), FID/KID math (``fid``), the standard
FID network (``fid_inception``) and which network a weights file gives (``inception``), FID
between folders (``folder_fid``), image metrics (``metrics``)."""
