"""Print where, relative to an install prefix, this Python looks for
packages: Debian's python3 searches lib/python3/dist-packages under /usr
and lib/python3.X/dist-packages under /usr/local; anywhere else (and on
other systems) it is the standard lib/python3.X/site-packages.

    python3 tools/sitedir.py PREFIX     (used by cmake --install)"""

from __future__ import annotations

import os
import sys
import sysconfig


def sitedir(prefix: str) -> str:
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    prefix = os.path.normpath(prefix)
    if "deb_system" in sysconfig.get_scheme_names():
        if prefix == "/usr":
            return "lib/python3/dist-packages"
        if prefix == "/usr/local":
            return f"lib/python{ver}/dist-packages"
    path = sysconfig.get_path("purelib", "posix_prefix",
                              vars={"base": prefix, "platbase": prefix})
    return os.path.relpath(path, prefix)


if __name__ == "__main__":
    print(sitedir(sys.argv[1]))
