"""Sweeps: many runs of one project, each with other values of a few settings, searched by
KerasTuner's oracles, to find a better model.

    space.py   what varies: `NAME=SPEC` (hidden.units=8..64, training.optimizer=adam,sgd),
               each checked against the project
    marks.py   the settings marked to vary in the app, kept in the project file ("vary"),
               set and cleared by one undoable SetMark; what a sweep varies when not told
    apply.py   a trial's values written into a copy of the project, and the best trial's
               into the project itself as one undoable edit
    table.py   the trials as a table (DIR/trials.csv) and the best of them
    axes.py    the parallel-coordinates plot's axes: each parameter's scale and labels
    search.py  the sweep: the oracle proposes, each trial is an ordinary Run with its own run
               folder under the sweep folder, and a killed sweep resumes where it stopped
    parallel.py  several trials at once: slots on this machine (trial processes) and ranks
    trial_entry.py  a trial process, training trial after trial as Runs
    ranks.py   the ranks of `deepgui worker` taking trials over a small JSON channel

Nothing here imports Qt; KerasTuner (and with it TensorFlow) is imported only when a sweep
starts.
"""
