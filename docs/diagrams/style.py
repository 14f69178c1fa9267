"""The look both diagrams share (fonts, spacing, the failure path's colour), so aws.py and
local.py differ only in what they draw."""

from diagrams import Cluster, Diagram

NODE = {"fontsize": "15", "fontname": "DejaVu Sans", "imagepos": "tc"}  # icon on top: room for the label below
EDGE = {"fontsize": "13", "fontname": "DejaVu Sans"}
CLUSTER = {"fontsize": "17", "fontname": "DejaVu Sans Bold"}
FAIL = {"color": "firebrick", "fontcolor": "firebrick", "style": "dashed"}


def diagram(title, filename, ranksep):
    """A left-to-right diagram written to `filename`.png; `ranksep` spaces its columns."""
    graph = {
        "fontsize": "22",
        "fontname": "DejaVu Sans",
        "pad": "0.4",
        "nodesep": "0.7",
        "ranksep": ranksep,
        "splines": "spline",
        "labelloc": "t",
    }
    return Diagram(
        title,
        filename=filename,
        show=False,
        direction="LR",
        curvestyle="curved",
        graph_attr=graph,
        node_attr=NODE,
        edge_attr=EDGE,
    )


def group(label):
    return Cluster(label, graph_attr=CLUSTER)
