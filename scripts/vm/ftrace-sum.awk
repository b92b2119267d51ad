#!/usr/bin/awk -f
# Sums a function_graph trace (tests/uapi/trace.c's lines tagged TAG) per
# call path below the qnpu ioctls: calls per ioctl, microseconds per call
# and per ioctl, in tree order. One CPU's lines; other ioctls' paths and
# interrupt lines are left out.
# Usage: awk -v tag=trace-serial -f ftrace-sum.awk trace.log
function strip(s) {
	sub(/ \[[a-z_0-9]+\]/, "", s)
	sub(/\(\);?$/, "", s)
	sub(/\(\) \{$/, "", s)
	return s
}
# Function entries below a qnpu ioctl: the work it does, whatever the
# host's load did to the durations.
function count_call(depth,    i) {
	for (i = 1; i <= depth; i++)
		if (stack[i] ~ /^qnpu_ioctl_/) {
			entries[stack[i]]++
			return
		}
}
index($0, tag ": ") == 1 {
	line = substr($0, length(tag) + 3)
	bar = index(line, "|")
	if (!bar || line ~ /=>|------/)
		next
	left = substr(line, 1, bar - 1)
	right = substr(line, bar + 1)
	match(right, /^ */)
	depth = int(RLENGTH / 2)
	body = substr(right, RLENGTH + 1)
	us = -1
	if (match(left, /[0-9]+\.[0-9]+ us/))
		us = substr(left, RSTART, RLENGTH - 3) + 0
	if (body ~ /\{$/) {
		stack[depth] = strip(body)
		count_call(depth)
		next
	}
	if (body ~ /^\}/) {
		name = body
		sub(/^\} \/\* /, "", name)
		sub(/ \*\/$/, "", name)
		name = strip(name)
	} else {
		name = strip(body)
		stack[depth] = name
		count_call(depth)
	}
	path = ""
	for (i = 1; i < depth; i++)
		path = path stack[i] "/"
	path = path name
	if (path !~ /qnpu_ioctl/ || us < 0)
		next
	if (!(path in n))
		order[++paths] = path
	n[path]++
	sum[path] += us
	if (name ~ /^qnpu_ioctl_/ && depth == 3)
		ioctls[name]++
}
END {
	printf("%s: calls/ioctl, us/call, us/ioctl per path (%d SUBMITs, %d BO_WAITs)\n",
	       tag, ioctls["qnpu_ioctl_submit"], ioctls["qnpu_ioctl_bo_wait"])
	for (r in entries)
		if (ioctls[r])
			printf("%s: %s: %.1f traced calls per ioctl\n", tag, r,
			       entries[r] / ioctls[r])
	for (k = 1; k <= paths; k++) {
		p = order[k]
		root = p ~ /qnpu_ioctl_submit/ ? "qnpu_ioctl_submit" : \
		       p ~ /qnpu_ioctl_bo_wait/ ? "qnpu_ioctl_bo_wait" : ""
		if (root == "" || !ioctls[root])
			continue
		d = gsub(/\//, "/", p)
		name = p
		sub(/.*\//, "", name)
		printf("%s: %*s%-*s %6.2f %8.2f %8.2f\n", tag, 2 * (d - 2), "",
		       44 - 2 * (d - 2), name, n[p] / ioctls[root],
		       sum[p] / n[p], sum[p] / ioctls[root])
	}
}
