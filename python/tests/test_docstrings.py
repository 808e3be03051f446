"""help(mtif.X) is useful: every public callable has a docstring and named arguments.

Public: the names in mtif.__all__, their public methods and properties, and the
extension modules under them (mtif._core, mtif._torch), whose pybind11
signature lines must name every argument (no ``arg0``)."""
import inspect
import re

import pytest

import mtif


def public_names():
    return list(mtif.__all__)


def members(cls):
    """Public attributes defined by the class itself or its mtif bases."""
    for klass in cls.__mro__:
        if klass is object or not klass.__module__.startswith("mtif"):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") or name == "__init__":
                yield klass, name, value


def doc_of(value):
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return inspect.getdoc(value) if not isinstance(value, property) else value.__doc__


def check_named_arguments(where, func):
    if isinstance(func, (staticmethod, classmethod)):
        func = func.__func__
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # a pybind11 function: its first doc line is the signature
        first = (func.__doc__ or "").splitlines()[0] if func.__doc__ else ""
        assert "(" in first, f"{where}: no signature line in its docstring"
        assert not re.search(r"\barg\d+\b", first), f"{where}: unnamed arguments: {first}"
        return
    for p in signature.parameters.values():
        assert not re.fullmatch(r"arg\d+", p.name), f"{where}: unnamed argument {p.name}"
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            assert p.annotation is not p.empty, f"{where}: argument {p.name} has no type hint"
    if not where.endswith("__init__"):
        assert signature.return_annotation is not signature.empty, f"{where}: no return type hint"


@pytest.mark.parametrize("name", public_names())
def test_public_callables_have_docstrings_and_named_arguments(name):
    obj = getattr(mtif, name)
    assert inspect.getdoc(obj), f"mtif.{name} has no docstring"
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return
        for klass, attr, value in members(obj):
            where = f"mtif.{name}.{attr}"
            if attr == "__init__":
                check_named_arguments(where, value)
                continue
            if isinstance(value, property) or callable(value) or isinstance(value, (staticmethod, classmethod)):
                assert doc_of(value), f"{where} has no docstring"
            if callable(value) or isinstance(value, (staticmethod, classmethod)):
                check_named_arguments(where, value)
    elif callable(obj):
        check_named_arguments(f"mtif.{name}", obj)


def extension_modules():
    mods = [mtif._core]
    try:
        import mtif._torch as torch_module  # absent in builds without LibTorch
        mods.append(torch_module)
    except ImportError:
        pass
    return mods


@pytest.mark.parametrize("module", extension_modules(), ids=lambda m: m.__name__)
def test_extension_functions_and_methods_are_documented_with_named_arguments(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        where = f"{module.__name__}.{name}"
        assert inspect.getdoc(obj), f"{where} has no docstring"
        if inspect.isclass(obj):
            if issubclass(obj, BaseException):
                continue
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(value, property):
                    assert value.__doc__, f"{where}.{attr} has no docstring"
                elif callable(value) or isinstance(value, staticmethod):
                    func = value.__func__ if isinstance(value, staticmethod) else value
                    doc = func.__doc__ or ""
                    lines = [l for l in doc.splitlines() if l.strip()]
                    assert len(lines) >= 2 or attr == "__init__" and len(lines) >= 1, f"{where}.{attr}: no docstring"
                    assert not re.search(r"\barg\d+\b", doc), f"{where}.{attr}: unnamed arguments: {lines[0]}"
        elif callable(obj):
            assert not re.search(r"\barg\d+\b", obj.__doc__ or ""), f"{where}: unnamed arguments"


def test_help_of_linear_multitask_explains_its_parameters():
    text = inspect.getdoc(mtif.LinearMultitask)
    for word in ("lambda_task", "lambda_shared", "loss", "Examples"):
        assert word in text
    for method in ("fit", "influence", "relatedness", "loo"):
        sig = inspect.signature(getattr(mtif.LinearMultitask, method))
        assert sig.return_annotation is not inspect.Signature.empty, f"LinearMultitask.{method} has no return type"
