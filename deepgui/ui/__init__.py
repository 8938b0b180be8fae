"""The desktop app (PySide6): shows the core's state and sends it commands; decides nothing the
core could decide. Entry point: `deepgui.ui.app.run_app`."""
