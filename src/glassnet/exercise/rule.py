"""The rule ``glassnet check`` uses to tell a rounding slip from a real error (no imports).

Kept apart from :mod:`glassnet.exercise.check` so the command line can print it in
``glassnet check --help`` without loading anything.
"""

from __future__ import annotations

__all__ = ["TOLERANCE", "RULE_HELP"]

#: a rounding slip may be off by at most this fraction of the scale
TOLERANCE = 0.25

RULE_HELP = f"""\
verdicts:
  ok        the answer equals the exact value at the precision it was written
            with: |answer - exact| <= half a unit of its last written digit
            (1.0000065 claims +-5e-08; write "1.50" or 1.50 to claim +-0.005).
            An updated parameter must be written finely enough to show its
            update (half a unit < the update): w1 = 1 for 1.0000067 shows no
            update and is judged by the rounding rule alone (wrong).
  rounding  not ok, but |answer - exact| <= {TOLERANCE:.0%} of the scale, where the
            scale is the parameter's update |W_after - W_before| for W and b
            (summed over the updates so far), and |exact| for everything else
            (loss, z, a, outputs, deltas, gradients).
  wrong     anything else; any change where the exact scale is 0.

why {TOLERANCE:.0%}: hand arithmetic that keeps 2 significant digits rounds every
intermediate by at most 5%; relative errors of a product add up, and the
gradient of a weight behind one hidden layer multiplies 5 rounded factors
(dE/dy, f'(z_L), w, f'(z), x), so 5 x 5% = {TOLERANCE:.0%} is the worst case.
It is also half of the smallest factor-2 slip (a forgotten or extra 1/2 is
50% or 100% off) and an eighth of a sign error (200%): those are always wrong.

exit status: 0 when nothing is wrong, 1 otherwise, 2 for a bad file.
"""
