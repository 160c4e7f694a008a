/* purple-otr - GPL-2.0-or-later (in progress) */
