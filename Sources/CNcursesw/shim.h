// ncursesw for Swift. The wide-character API (cchar_t, mvaddwstr, get_wch) is only declared
// when _XOPEN_SOURCE_EXTENDED is defined before the header, and a define in a C target's
// settings does not reach Swift importers, so it lives here.
#ifndef LATHE_CNCURSESW_SHIM_H
#define LATHE_CNCURSESW_SHIM_H
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>
#endif
