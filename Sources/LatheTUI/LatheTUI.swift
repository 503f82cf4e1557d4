// LatheTUI: the ncurses workbench.
