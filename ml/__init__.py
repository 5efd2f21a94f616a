"""Churn-risk model: training, backtest, versioned artefacts and scoring.

Plain functions over account-level pandas frames (never raw events); no Dagster here.
"""
