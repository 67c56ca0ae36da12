"""newsmon models list | install LANG… | install --file PATH.argosmodel | remove LANG…"""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_config, load

HELP = "list the installed translation models, install zh→en / ru→en Argos packages, or remove them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Examples:\n"
        "  newsmon models list\n"
        "  newsmon models install zh ru                       # from the Argos package index (needs the Internet)\n"
        "  newsmon models install --file translate-zh_en-1_9.argosmodel   # air-gapped machines\n"
        "  newsmon models remove ru\n\n"
        "Packages go to [translation] packages_dir, else $ARGOS_PACKAGES_DIR, else Argos' default directory\n"
        "(~/.local/share/argos-translate/packages); packages installed with argospm are found there too."
    )
    parser.add_argument(
        "action",
        choices=["list", "install", "remove"],
        help="list: installed pairs; install: add models; remove: delete a language's models",
    )
    parser.add_argument(
        "langs", nargs="*", metavar="LANG", help="source languages to install from the index, or to remove (zh ru)"
    )
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="install this .argosmodel file instead of downloading (repeatable)",
    )
    add_config(parser, "user config file (its [translation] table)")


def run(args: argparse.Namespace) -> int:
    from crawler.translation import models
    from crawler.translation.settings import settings_of as translation_settings

    settings = translation_settings(load(args))
    if args.file and args.action != "install":
        print(f"newsmon: error: models {args.action}: --file is for install", file=sys.stderr)
        return 2
    if args.action == "list":
        return _list(settings, models)
    if args.action == "remove":
        return _remove(args.langs, settings, models)
    if not args.langs and not args.file:
        print("newsmon: error: models install: name languages (zh ru) or give --file PATH.argosmodel", file=sys.stderr)
        return 2
    dest = models.install_dir(settings.packages_dir)
    done = [models.install_file(path, dest) for path in args.file]
    if args.langs:
        print(
            f"installing {', '.join(f'{lang}→{settings.target}' for lang in args.langs)} from the Argos "
            f"package index {models.index_url()} (needs the Internet) …",
            flush=True,
        )
        done += models.install_from_index(args.langs, settings.target, dest)
    for package in done:
        print(f"installed {package.from_code}→{package.to_code}  {package.name} {package.version}  {package.path}")
    return 0


def _list(settings, models) -> int:
    dirs = models.package_dirs(settings.packages_dir)
    packages = models.installed(dirs)
    print(f"packages directory: {', '.join(str(d) for d in dirs)}")
    for p in packages:
        print(f"  {p.from_code}→{p.to_code}  {p.name:<20} {p.version:<8} {p.path}")
    have = {p.from_code for p in packages if p.to_code == settings.target}
    missing = [lang for lang in settings.languages if lang not in have]
    if missing:
        print(
            f"missing: {', '.join(f'{m}→{settings.target}' for m in missing)}; install with: "
            f"{models.INSTALL_HINT.format(langs=' '.join(missing))}"
        )
    return 0 if not missing else 1


def _remove(langs: list[str], settings, models) -> int:
    if not langs:
        print("newsmon: error: models remove: name the languages whose models to remove (zh ru)", file=sys.stderr)
        return 2
    dirs = models.package_dirs(settings.packages_dir)
    absent = [lang for lang in langs if models.find(lang, settings.target, dirs) is None]
    if absent:  # nothing removed unless every named language has a model to remove
        print(
            f"newsmon: error: models remove: no {', '.join(f'{a}→{settings.target}' for a in absent)} package "
            f"is installed in {', '.join(str(d) for d in dirs)}",
            file=sys.stderr,
        )
        return 2
    for lang in langs:
        for package in models.remove(lang, settings.target, dirs):
            print(f"removed {package.from_code}→{package.to_code}  {package.name} {package.version}  {package.path}")
    return 0
