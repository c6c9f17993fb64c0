"""The array type the metrics share, and the clip that keeps logarithms finite."""

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
EPS = 1e-12
