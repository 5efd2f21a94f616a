"""Churn-risk model: training, backtest, versioned artefacts and scoring.

Plain functions over account-level pandas frames (never raw events); no Dagster here.

OpenMP threads (scikit-learn's gradient boosting) wait passively here: by default they
spin, and on a machine whose cores are busy with anything else (a dbt build, a second
run, CI) each of the many small parallel regions of a fit or a prediction then waits
for a descheduled partner. Measured on the 2-core machine with two busy processes
beside it (`python -m bench.model_threads`): fitting the model on 12,000 rows took
299 s spinning against 2.6 s passive. The setting must be in place before the OpenMP
runtime loads, so it is set when this package is imported, ahead of scikit-learn; an
explicit OMP_WAIT_POLICY wins.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
