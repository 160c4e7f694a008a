-- purple-otr - GPL-2.0-or-later (see COPYING)
-- mod_potr_wiretap: a test-only prosody module that appends every message
-- stanza a local client sends (as the server receives it, before routing)
-- to the file named by the option potr_wiretap_file: what the server sees.
-- Each record is the stanza's length in bytes, a newline, the stanza, and a
-- newline (bodies may hold newlines of their own).
local path = module:get_option_string("potr_wiretap_file");

local function record(event)
	if path == nil then return; end
	local f = io.open(path, "a");
	if f then
		local xml = tostring(event.stanza);
		f:write(#xml, "\n", xml, "\n");
		f:close();
	end
end

module:hook("pre-message/bare", record, 1000);
module:hook("pre-message/full", record, 1000);
module:hook("pre-message/host", record, 1000);
