"""The Training tab: data, configuration, live training, overfitting, runs and evaluation.

Entry point: `deepgui.ui.training.panel.TrainingPanel`.
"""
