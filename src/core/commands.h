/* purple-otr */
