"""The entry point of dist/blog.pyz (`make pyz`): the `blog` command, in one file.

`python3 blog.pyz serve` keeps its blog in ./blog-data unless told otherwise (`--data DIR`,
before or after the command's name, or BLOG_INSTANCE_PATH): the database, and the secret
key beside it. Copying that folder and the .pyz moves the blog.
"""

from __future__ import annotations

import os
import sys

DEFAULT_DATA = "blog-data"


def data_option_first(args: list[str]) -> list[str]:
    """`serve --data DIR` as `--data DIR serve`: the option belongs to the `blog` group,
    and people write it after the command too. Arguments after `--` are left alone."""
    end = args.index("--") if "--" in args else len(args)
    for index, arg in enumerate(args[:end]):
        if arg == "--data" and index + 1 < end:
            return [arg, args[index + 1], *args[:index], *args[index + 2 :]]
        if arg.startswith("--data="):
            return [arg, *args[:index], *args[index + 1 :]]
    return args


def main() -> None:
    """Run the `blog` command with ./blog-data as the default data directory."""
    os.environ.setdefault("BLOG_INSTANCE_PATH", os.path.abspath(DEFAULT_DATA))
    from .cli import main as blog

    blog.main(args=data_option_first(sys.argv[1:]), prog_name="blog.pyz")


if __name__ == "__main__":
    main()
