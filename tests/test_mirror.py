"""pt_utils and tf_utils are mirrors: same public names, same parameters (STYLE.md)."""
import inspect

from course_utils import pt_utils, tf_utils


def public_functions(module):
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module.__name__}


def test_same_public_names():
    assert sorted(public_functions(pt_utils)) == sorted(public_functions(tf_utils))


def test_same_parameters():
    pt, tf = public_functions(pt_utils), public_functions(tf_utils)
    for name in pt:
        pt_params = [(p.name, p.kind, p.default) for p in inspect.signature(pt[name]).parameters.values()]
        tf_params = [(p.name, p.kind, p.default) for p in inspect.signature(tf[name]).parameters.values()]
        assert pt_params == tf_params, f"{name}: pt_utils{pt_params} vs tf_utils{tf_params}"


def test_same_return_annotations():
    pt, tf = public_functions(pt_utils), public_functions(tf_utils)
    for name in pt:
        assert inspect.signature(pt[name]).return_annotation == inspect.signature(tf[name]).return_annotation, name


def test_every_helper_has_a_docstring():
    for module in (pt_utils, tf_utils):
        for name, func in public_functions(module).items():
            assert func.__doc__ and func.__doc__.strip(), f"{module.__name__}.{name} has no docstring"
