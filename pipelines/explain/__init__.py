"""Look inside a model: ``explain`` one input into arrays (``Explanation``), ``write_page`` them as
one HTML file. Needs torch: the gradient and the weights come from the torch model."""

from typing import TYPE_CHECKING

from seqrec.pipelines.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from seqrec.pipelines.explain.inside import Explanation as Explanation
    from seqrec.pipelines.explain.inside import explain as explain
    from seqrec.pipelines.explain.page import write_page as write_page

__getattr__ = lazy_exports(
    globals(),
    {
        "Explanation": "seqrec.pipelines.explain.inside",
        "explain": "seqrec.pipelines.explain.inside",
        "write_page": "seqrec.pipelines.explain.page",
    },
)

__all__ = ["Explanation", "explain", "write_page"]
