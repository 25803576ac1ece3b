"""``python -m seqrec.pipelines.cli`` (and ``torchrun ... -m seqrec.pipelines.cli train``)."""

import sys

from seqrec.pipelines.cli.app import main

sys.exit(main())
