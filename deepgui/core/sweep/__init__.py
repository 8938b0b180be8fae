"""Sweeps: many runs of one project, each with other values of a few settings, searched by
KerasTuner's oracles, to find a better model.

    space.py   what varies: `NAME=SPEC` (hidden.units=8..64, training.optimizer=adam,sgd),
               each checked against the project
    apply.py   a trial's values written into a copy of the project, and the best trial's
               into the project itself as one undoable edit
    table.py   the trials as a table (DIR/trials.csv) and the best of them
    search.py  the sweep: the oracle proposes, each trial is an ordinary Run with its own run
               folder under the sweep folder, and a killed sweep resumes where it stopped

Nothing here imports Qt; KerasTuner (and with it TensorFlow) is imported only when a sweep
starts.
"""
