"""Whether this machine can reach a host: decides between downloading and a clear offline error."""

import socket
import threading


def host_reachable(host, port=443, timeout=5.0):
    """True when a TCP connection to host opens within ``timeout`` seconds (DNS included)."""
    result = []

    def probe():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            return  # Unreachable: result stays empty.

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result)
