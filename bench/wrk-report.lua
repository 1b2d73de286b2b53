-- wrk script of the userspace bench: prints the run as one JSON line when done, and, given a number after
-- the URL, makes each thread stop after that many responses (the leak check's fixed count of connections).
local stopAfter
local seen = 0

function init(args)
  stopAfter = tonumber(args[1])
  if stopAfter then
    response = function()
      seen = seen + 1
      if seen >= stopAfter then wrk.thread:stop() end
    end
  end
end

function done(summary)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
