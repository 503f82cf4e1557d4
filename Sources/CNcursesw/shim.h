// ncursesw for Swift. The wide-character API (cchar_t, mvaddwstr, get_wch) is only declared
// when _XOPEN_SOURCE_EXTENDED is defined before the header, and a define in a C target's
// settings does not reach Swift importers, so it lives here.
//
// Swift 6 cannot import ncurses' function-like macros (A_BOLD, COLOR_PAIR, getmaxyx) and
// treats its mutable globals (stdscr, LINES, COLORS) as not concurrency-safe, so each one the
// workbench needs is wrapped below in a small static inline accessor.
#ifndef LATHE_CNCURSESW_SHIM_H
#define LATHE_CNCURSESW_SHIM_H
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <string.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// MARK: globals

static inline WINDOW *lathe_stdscr(void) { return stdscr; }
static inline int lathe_lines(void) { return LINES; }
static inline int lathe_cols(void) { return COLS; }
static inline int lathe_colors(void) { return COLORS; }
static inline int lathe_color_pairs(void) { return COLOR_PAIRS; }

static inline int lathe_window_height(WINDOW *w) { return getmaxy(w); }
static inline int lathe_window_width(WINDOW *w) { return getmaxx(w); }

// MARK: attributes and key codes

static inline attr_t lathe_a_normal(void) { return A_NORMAL; }
static inline attr_t lathe_a_bold(void) { return A_BOLD; }
static inline attr_t lathe_a_dim(void) { return A_DIM; }
static inline attr_t lathe_a_reverse(void) { return A_REVERSE; }
static inline attr_t lathe_a_underline(void) { return A_UNDERLINE; }
static inline attr_t lathe_a_italic(void) { return A_ITALIC; }
/// The bits of an attr_t that hold the colour pair and the character, for masking them off.
static inline attr_t lathe_color_mask(void) { return A_COLOR; }
static inline attr_t lathe_chartext_mask(void) { return A_CHARTEXT; }

static inline int lathe_key_resize(void) { return KEY_RESIZE; }
static inline int lathe_key_mouse(void) { return KEY_MOUSE; }
static inline int lathe_key_code_yes(void) { return KEY_CODE_YES; }

// MARK: locale

/// 1 when the current locale's character set is UTF-8 (call after setlocale).
static inline int lathe_locale_is_utf8(void) {
  const char *codeset = nl_langinfo(CODESET);
  return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

// MARK: cells

/// Writes one character with attributes and an (extended) colour pair at (y, x).
static inline int lathe_put_cell(WINDOW *w, int y, int x, wchar_t ch, attr_t attrs, int pair) {
  cchar_t cell;
  wchar_t text[2] = {ch, 0};
  if (setcchar(&cell, text, attrs, 0, &pair) == ERR) return ERR;
  return mvwadd_wch(w, y, x, &cell);
}

/// Reads the character, attributes and colour pair at (y, x); used by tests.
static inline int lathe_read_cell(WINDOW *w, int y, int x, wchar_t *ch, attr_t *attrs, int *pair) {
  cchar_t cell;
  if (mvwin_wch(w, y, x, &cell) == ERR) return ERR;
  wchar_t text[CCHARW_MAX + 1];
  short shortPair = 0;
  *pair = 0;
  if (getcchar(&cell, text, attrs, &shortPair, pair) == ERR) return ERR;
  if (*pair == 0) *pair = shortPair;
  *ch = text[0];
  return OK;
}

// MARK: mouse

static inline void lathe_enable_mouse(void) {
  mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
  mouseinterval(0);
}

/// After KEY_MOUSE: the cell and what happened (1 click, 4 wheel up, 5 wheel down, 0 other).
static inline int lathe_read_mouse(int *y, int *x, int *button) {
  MEVENT event;
  if (getmouse(&event) != OK) return ERR;
  *y = event.y;
  *x = event.x;
  *button = 0;
  if (event.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) *button = 1;
  if (event.bstate & BUTTON4_PRESSED) *button = 4;
#ifdef BUTTON5_PRESSED
  if (event.bstate & BUTTON5_PRESSED) *button = 5;
#endif
  return OK;
}

// MARK: restoring the terminal on a crash

/// Puts the terminal back, then lets the signal do what it would have done.
/// endwin is not strictly async-signal-safe, but after a crash a usable shell is worth the risk.
static void lathe_restore_and_reraise(int sig) {
  endwin();
  signal(sig, SIG_DFL);
  raise(sig);
}

/// On SIGSEGV, SIGBUS, SIGILL, SIGTRAP (Swift traps), SIGABRT and SIGFPE: restore, then die.
static inline void lathe_install_crash_handlers(void) {
  int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
  for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
    signal(signals[i], lathe_restore_and_reraise);
  }
}

static inline void lathe_remove_crash_handlers(void) {
  int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
  for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
    signal(signals[i], SIG_DFL);
  }
}

#endif
