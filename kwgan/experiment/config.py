"""What an experiment is: a frozen, validated configuration with the papers' defaults.

Each kind of experiment (images, the 2-D toys, the language model, the sweeps over them)
has one `Config` subclass. Its fields are the experiment's whole definition: the
command-line flags are derived from them (`kwgan.cli.main`), `run.json` records them, and
a resumed run is compared against them. Every field carries its help text and how it is
checked on the field itself (`option`), including whether it is *free*: a field that
changes no result (a time budget, checkpoint and sample intervals, output paths, device
flags), which a resumed run may change. This follows StudioGAN's `src/config.py` (one
object, defaults in code, presets overriding only what differs) and mimicry's trainer,
which refuses to resume a run whose parameters changed (`torch_mimicry/training/trainer.py`).

A bad value raises `kwgan.errors.ConfigError` naming the field when the config is built,
before anything is trained or written.
"""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from kwgan.errors import ConfigError

Choices = tuple[str, ...] | Callable[[], Iterable[str]]


def option(
    default: Any,
    help: str,
    *,
    free: bool = False,
    choices: Choices | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    repeated: bool = False,
) -> Any:
    """A config field: its default, its help text, and how it is checked.

    Args:
        default: the papers' value (`None` where the architecture or objective decides).
        help: one sentence for `--help`, naming the reference setting where there is one.
        free: whether the field changes no result, so a resumed run may change it.
        choices: the allowed values, or a function returning them (a registry's names,
            looked up when checked so that the registry stays the one source).
        minimum: the smallest allowed value of a number.
        maximum: the largest allowed value of a number.
        repeated: for a tuple field, a flag given once per value (`--objective a
            --objective b`) rather than one comma-separated list.
    """
    metadata = {
        "help": help,
        "free": free,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "repeated": repeated,
    }
    return dataclasses.field(default=default, metadata=metadata)


def out_option(default: str) -> Any:
    """The output directory field every experiment has (free: a run may move)."""
    return option(default, "Output directory (a rerun resumes it).", free=True)


# `keras.utils.set_random_seed` seeds NumPy's legacy generator, which takes [0, 2**32 - 1].
SEED_RANGE = (0, 2**32 - 1)


def seed_option(help: str) -> Any:
    """An experiment's seed field, bounded as the seeding accepts it: a seed outside is
    refused with the others' bad values, before any run directory is written."""
    return option(0, help, minimum=SEED_RANGE[0], maximum=SEED_RANGE[1])


def checkpoint_option(default: int) -> Any:
    """The checkpoint interval field of every training experiment (free)."""
    return option(
        default, "Checkpoint every this many critic iterations (fit steps).", free=True, minimum=1
    )


def time_limit_option() -> Any:
    """The wall-time budget field of every training experiment (free)."""
    return option(
        None,
        "Stop after this much wall time, writing the outputs so far; rerun to continue.",
        free=True,
        minimum=0,
    )


def choices_of(field: dataclasses.Field) -> tuple[str, ...] | None:
    """The allowed values of `field`, looked up now."""
    choices = field.metadata.get("choices")
    if choices is None:
        return None
    return tuple(choices() if callable(choices) else choices)


def field_type(cls: type, field: dataclasses.Field) -> tuple[type, type | None, bool]:
    """(the field's value type, its items' type for a `tuple[X, ...]` field else `None`,
    whether `None` is allowed), read from the annotation."""
    hint = typing.get_type_hints(cls)[field.name]
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(arguments) < len(typing.get_args(hint))
        hint = arguments[0]
    origin = typing.get_origin(hint) or hint
    item = typing.get_args(hint)[0] if origin is tuple else None
    return origin, item, optional


@dataclasses.dataclass(frozen=True)
class Config:
    """The fields and checks every experiment shares; subclasses add their own.

    `target` names the field counting what the run trains towards (generator
    iterations); it may grow between invocations unless `target_may_grow` says otherwise.
    """

    target: ClassVar[str] = "steps"

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            self._check_field(field)
        self.validate()

    def validate(self) -> None:
        """Checks between fields; subclasses extend it (each check raising `ConfigError`)."""

    @property
    def target_may_grow(self) -> bool:
        """Whether a larger target continues a finished run (not where the target shapes
        the training itself, such as a learning rate decaying to 0 at the last step)."""
        return True

    @classmethod
    def free_fields(cls) -> tuple[str, ...]:
        """The fields that change no result."""
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("free"))

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every field's default, JSON-ready: what a `run.json` recorded before a field
        existed is taken to hold for it (the field's default is the old behaviour)."""
        return {
            f.name: list(f.default) if isinstance(f.default, tuple) else f.default
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field by name, JSON-ready (tuples as lists): what `run.json` records."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }

    def result_fields(self) -> dict[str, Any]:
        """The fields that shape the result (all but the free ones): what `metrics.json`
        records beside the numbers."""
        free = set(self.free_fields())
        return {k: v for k, v in self.to_dict().items() if k not in free}

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes`, validated again."""
        return dataclasses.replace(self, **changes)

    def _check_field(self, field: dataclasses.Field) -> None:
        value = getattr(self, field.name)
        kind, item_kind, optional = field_type(type(self), field)
        if value is None:
            if not optional:
                raise ConfigError(f"{field.name} needs a value, got None.")
            return
        value = _coerced(field.name, value, kind)
        if item_kind is not None:
            value = tuple(_coerced(field.name, item, item_kind) for item in value)
        object.__setattr__(self, field.name, value)
        minimum, maximum = field.metadata.get("minimum"), field.metadata.get("maximum")
        choices = choices_of(field)
        for item in value if isinstance(value, tuple) else (value,):
            if minimum is not None and item < minimum:
                raise ConfigError(f"{field.name} must be >= {minimum:g}, got {item!r}.")
            if maximum is not None and item > maximum:
                raise ConfigError(f"{field.name} must be <= {maximum!r}, got {item!r}.")
            if choices is not None and item not in choices:
                raise ConfigError(f"{field.name} {item!r} is not one of: {', '.join(choices)}.")


def _coerced(name: str, value: Any, kind: type) -> Any:
    """`value` as a `kind`, or a `ConfigError` naming the field: an int where a float is
    expected is accepted, a bool is never a number, a list becomes a tuple."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, got {value!r}.")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{name} must be an integer, got {value!r}.")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name} must be a number, got {value!r}.")
        return float(value)
    if kind is tuple:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ConfigError(f"{name} must be a list, got {value!r}.")
        return tuple(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{name} must be a {kind.__name__}, got {value!r}.")
    return value
