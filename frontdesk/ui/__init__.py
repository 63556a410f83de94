"""PySide6 user interface: the main window, areas (diary, patients, billing…), dialogs."""
