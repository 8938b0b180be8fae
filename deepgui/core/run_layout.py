"""The names in a run folder, in one place: every module that reads or writes a run's files
takes them from here.

    MODEL        the trained model, taking the data as the user has it (model.keras)
    HISTORY      epoch (from 1) and every logged metric (history.csv)
    METRICS      how the run ended and what it measured (metrics.json)
    PROJECT      the project as trained (project.dgproj)
    SIGNATURE    what the model takes and gives, for predict and the exports (signature.json)
    SAMPLES      a few raw validation samples and their labels (samples.npz)
    CHECKPOINTS  the last finished epoch, with STATE naming its weights
    LOCK         held by the process training into the folder; it stays to mark the folder
                 as one deepgui made
    WORK         what a worker process is handed (its arrays and settings)
"""

MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
PROJECT = "project.dgproj"
SIGNATURE = "signature.json"
SAMPLES = "samples.npz"
CHECKPOINTS = "checkpoints"
STATE = "state.json"
LOCK = ".deepgui-run.lock"
WORK = ".worker"
