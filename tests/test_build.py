import numpy as np
import pytest

from deepgui.core.build import build_model
from deepgui.core.errors import BuildError
from deepgui.core.graph import Graph
from tests.helpers import add, small_cnn


def test_built_model_has_named_inputs_outputs_and_runs():
    g, n = small_cnn()
    model = build_model(g, name="digits")
    assert model.name == "digits"
    assert [layer.name for layer in model.layers] == [x.name for x in n.values()]
    assert model.predict(np.zeros((3, 8, 8, 1)), verbose=0).shape == (3, 10)


def test_inputs_keep_graph_order():
    g = Graph()
    a = add(g, "InputLayer", shape=[3], name="first")
    b = add(g, "InputLayer", shape=[5], name="second")
    add(g, "Concatenate", b, a)
    model = build_model(g)
    assert [t.name for t in model.inputs] == ["first", "second"]


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda g: add(g, "Dense"), "no Input layer"),
        (lambda g: add(g, "InputLayer"), "no output"),
    ],
)
def test_unbuildable_graphs_say_why(make, fragment):
    g = Graph()
    make(g)
    with pytest.raises(BuildError, match=fragment):
        build_model(g)


def test_errors_block_the_build_with_the_layer_named():
    g, n = small_cnn()
    g.set_config(n["dense"].id, dict(n["dense"].config, units=0))
    with pytest.raises(BuildError, match="dense: units must be at least 1"):
        build_model(g)


def test_marked_output_read_by_another_layer_becomes_a_model_output():
    g = Graph()
    i = add(g, "InputLayer", shape=[6])
    code = add(g, "Dense", i, units=2, name="code")
    add(g, "Dense", code, units=6, name="reconstruction")
    g.set_output(code.id, True)
    model = build_model(g)
    assert list(model.output_names) == ["code", "reconstruction"]
    code_out, recon = model.predict(np.zeros((2, 6)), verbose=0)
    assert code_out.shape == (2, 2) and recon.shape == (2, 6)
