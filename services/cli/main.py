"""The `modelfleet` command line: list, train and serve model versions.

modelfleet models                      # versions in the registry
modelfleet models --ensure             # publish the seed versions of every model
modelfleet train iris [--recipe NAME]  # train and publish a new version
modelfleet serve iris --version v1 --port 8101
modelfleet new wine                    # scaffold services/wine/
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

import services
from services.runtime.registry import Registry
from services.runtime.settings import NAME_PATTERN, VERSION_PATTERN

from .serve import gunicorn_command, serve_environment

__all__ = ["TOOL_PACKAGES", "main", "model_packages"]

# The packages in services/ that are not models: what a pod runs, and this tool.
TOOL_PACKAGES = frozenset({"runtime", "cli"})


def _registry_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        type=Path,
        default=Path(os.environ.get("MODELFLEET_REGISTRY", "registry")),
        help="registry root (default: $MODELFLEET_REGISTRY or ./registry)",
    )


def model_packages() -> list[str]:
    """Names of the model packages beside the runtime (services/<name>/)."""
    return sorted(
        info.name for info in pkgutil.iter_modules(services.__path__)
        if info.ispkg and info.name not in TOOL_PACKAGES
    )  # fmt: skip


def cmd_models(args: argparse.Namespace) -> int:
    registry = Registry(args.registry)
    if args.ensure:
        for name in model_packages():
            for manifest in importlib.import_module(f"services.{name}").seed(registry):
                print(f"published {manifest.name} {manifest.version} {manifest.metrics}")
    rows = [
        (model, version, registry.manifest(model, version))
        for model in registry.models()
        for version in registry.versions(model)
    ]
    if not rows:
        print(f"no models in {args.registry} (run `make models`)")
        return 0
    print(f"{'MODEL':<10} {'VERSION':<8} {'PARENT':<7} {'CREATED':<20} METRICS")
    for model, version, manifest in rows:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(manifest.metrics.items()))
        created = manifest.created_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{model:<10} {version:<8} {manifest.parent or '-':<7} {created:<20} {metrics}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    package = importlib.import_module(f"services.{args.model}")
    if not hasattr(package, "train"):
        print(f"modelfleet train: {args.model} has no training recipe (it is imported, not trained)",
              file=sys.stderr)  # fmt: skip
        return 2
    options = {"recipe": args.recipe} if args.recipe else {}
    manifest = package.train(Registry(args.registry), **options)
    print(
        f"published {manifest.name} {manifest.version} (parent {manifest.parent}) {manifest.metrics}"
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from .fleet import run_stack  # imported here: it needs the gateway extra (watchfiles)

    observe_port = args.prometheus_port if args.observe else None
    return run_stack(args.values, args.registry, args.port, args.state_dir, observe_port)


def cmd_serve(args: argparse.Namespace) -> int:
    env = serve_environment(
        args.model, args.version, args.port,
        host=args.host, workers=args.workers, registry=args.registry,
    )  # fmt: skip
    command = gunicorn_command()
    os.execvpe(command[0], command, os.environ | env)
    return 0  # unreachable: exec replaces this process


def cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import ScaffoldError, scaffold, values_snippet

    try:
        folder = scaffold(args.name, args.services_dir)
    except ScaffoldError as exc:
        print(f"modelfleet new: {exc}", file=sys.stderr)
        return 2
    print(f"created {folder}/ (schemas.py, model.py, train.py)")
    print("next: make models, then add this under `models:` in charts/modelfleet/values.yaml:")
    print(values_snippet(args.name), end="")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelfleet", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    models = commands.add_parser("models", help="list the versions in the registry")
    _registry_arg(models)
    models.add_argument("--ensure", action="store_true", help="publish missing seed versions")
    models.set_defaults(run=cmd_models)

    train = commands.add_parser("train", help="train and publish a new version")
    train.add_argument("model", choices=model_packages())
    train.add_argument("--recipe", help="training recipe (model-specific)")
    _registry_arg(train)
    train.set_defaults(run=cmd_train)

    serve = commands.add_parser("serve", help="serve one version under gunicorn")
    serve.add_argument("model", type=_matching(NAME_PATTERN, "model name"))
    serve.add_argument("--version", required=True, type=_matching(VERSION_PATTERN, "version"))
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--workers", type=int, default=1)
    _registry_arg(serve)
    serve.set_defaults(run=cmd_serve)

    up = commands.add_parser("up", help="serve the whole fleet locally: every version + gateway")
    up.add_argument("--values", type=Path, default=Path("charts/modelfleet/values.yaml"))
    up.add_argument("--port", type=int, default=8000, help="gateway port on 127.0.0.1")
    up.add_argument("--state-dir", type=Path, default=Path(".local"), help="for routes.yaml")
    up.add_argument("--observe", action="store_true", help="also run a local Prometheus")
    up.add_argument("--prometheus-port", type=int, default=9090, help="its port on 127.0.0.1")
    _registry_arg(up)
    up.set_defaults(run=cmd_up)

    new = commands.add_parser("new", help="scaffold a new model package in services/")
    new.add_argument("name", help="model name: lowercase letters and digits")
    new.add_argument("--services-dir", type=Path, default=Path(services.__path__[0]))
    new.set_defaults(run=cmd_new)
    return parser


def _matching(pattern: str, what: str) -> type[str]:
    import re

    def check(text: str) -> str:
        if not re.fullmatch(pattern, text):
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {what} ({pattern})")
        return text

    return check  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
