/* html_report.js: the script of `ctxpack stats --html` (embedded into the
 * page by src/cli/html_report.c; see docs/html-report.md).  Reads the two
 * JSON documents of the page, fills the tables and draws the treemap of
 * the visible level on a canvas.  Data is only ever set as textContent. */
(function () {
	'use strict';

	/* The meanings (sent, excluded, re-included by an exception) have their
	 * own colours, which the rules' palette never uses: it holds hues far
	 * from those (no blue, red or green) and from each other.  More rules
	 * than colours: the rules with the most bytes get them, the rest share
	 * OTHER_RULES. */
	var SENT = '#3b82c4', EXCL = '#d9534f', REINCL = '#2e9d55', DIR_BG = '#e4e7eb', LINE = '#ffffff';
	var PALETTE = ['#f28e2b', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#f1ce63',
		'#3f3f3f'];
	var NO_RULE = '#c7c7c7', OTHER_RULES = '#8a8a8a';
	/* Colour by use (what the build reads, as stats found it): read, sent
	 * but read by nothing, excluded.  The first two have colours of their
	 * own, neither the sent blue nor the re-included green: a read box is
	 * not merely a sent one.  Excluded keeps its red: the same meaning. */
	var USED = '#6a3fb5', UNUSED = '#e0a526';

	function $(id) { return document.getElementById(id); }

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	/* Bytes that are not UTF-8 arrive as lone surrogates U+DC80-U+DCFF. */
	function shown(s) {
		return String(s).replace(/(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g, function (c) {
			return '\\x' + (c.charCodeAt(0) - 0xDC00).toString(16).padStart(2, '0');
		});
	}

	function grouped(n) {
		return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
	}

	function human(n) {
		var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], u = 0;
		n = Number(n) || 0;
		if (n < 1024)
			return n + ' B';
		while (n >= 1024 && u < units.length - 1) {
			n /= 1024;
			u++;
		}
		return (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) + ' ' + units[u];
	}

	function pct(x) {
		return (Number(x) || 0).toFixed(1) + ' %';
	}

	function fail(where, e) {
		var p = el('p', 'empty', 'cannot read the ' + where + ': ' + e);
		document.body.insertBefore(p, document.body.firstChild);
	}

	var stats = {}, tree = { rules: [], nodes: [] };
	try {
		stats = JSON.parse($('ctxpack-stats').textContent);
	} catch (e) {
		fail('stats document', e);
	}
	try {
		tree = JSON.parse($('ctxpack-tree').textContent);
	} catch (e) {
		fail('treemap data', e);
	}

	/* ---- header and totals ---- */
	var scanned = stats.scanned || {}, sent = stats.sent || {}, excluded = stats.excluded || {};
	var reduction = stats.reduction || {};
	$('context').textContent = shown(stats.context || '');
	document.title = 'ctxpack stats: ' + shown(stats.context || '');
	$('meta').textContent = 'builder ' + (stats.builder || '?') + ' \u00b7 Dockerfile ' +
		shown(stats.dockerfile || '?') + ' \u00b7 ignore file ' +
		(stats.ignore_file ? shown(stats.ignore_file) : 'none');

	function total(id, o, extra) {
		var v = $(id), sub = $(id + '-sub');
		v.dataset.bytes = String(o.bytes || 0);
		v.dataset.files = String(o.files || 0);
		v.dataset.entries = String(o.entries || 0);
		v.textContent = human(o.bytes || 0);
		v.title = grouped(o.bytes || 0) + ' bytes';
		sub.textContent = grouped(o.bytes || 0) + ' bytes \u00b7 ' + grouped(o.files || 0) + ' files' +
			(extra || '');
	}
	total('total-scanned', scanned, ' \u00b7 ' + grouped(scanned.dirs || 0) + ' dirs');
	total('total-sent', sent, ' \u00b7 tar ' + human(sent.tar_bytes || 0));
	total('total-excluded', excluded, '');
	$('reduction').dataset.bytesPct = String(reduction.bytes_pct || 0);
	$('reduction').dataset.filesPct = String(reduction.files_pct || 0);
	$('reduction').textContent = pct(reduction.bytes_pct);
	$('reduction-sub').textContent = 'of the bytes \u00b7 ' + pct(reduction.files_pct) + ' of the files';
	/* What the build reads: stats' "used" (read and unread of the sent
	 * entries), or why it is unknown (the Dockerfile could not be read). */
	var used = stats.used || {}, useKnown = !!(tree.used && used.read && used.unread);
	var useWhy = used.unknown || 'the stats document does not say what the build reads';
	if (useKnown) {
		total('total-used', used.read, ' \u00b7 ' + pct(sent.bytes ? 100 * used.read.bytes / sent.bytes : 0) +
			' of the sent bytes');
		total('total-unused', used.unread, ' \u00b7 ' + pct(sent.bytes ? 100 * used.unread.bytes / sent.bytes : 0) +
			' of the sent bytes');
	} else {
		['total-used', 'total-unused'].forEach(function (id) {
			$(id).textContent = 'unknown';
			$(id + '-sub').textContent = shown(useWhy);
		});
	}
	var useOption = $('colour-mode').querySelector('option[value=used]');
	if (!useKnown) {
		useOption.disabled = true;
		useOption.textContent += ' (unknown)';
		useOption.title = 'unknown: ' + shown(useWhy);
	}

	/* ---- tables ---- */
	/* Each header is a button that sorts the rows by its column, ascending
	 * then descending (aria-sort on the header); a column's key is c.key
	 * (numbers) or the text shown.  A table with a path column (c.path)
	 * is filtered by the search box. */
	var filtered = [];
	function table(id, rows, cols, rowClass, onRow) {
		var box = $(id);
		box.textContent = '';
		if (!rows || !rows.length) {
			box.appendChild(el('p', 'empty', 'none'));
			return;
		}
		var t = el('table'), head = el('thead'), tr = el('tr'), body = el('tbody'), ths = [];
		var items = rows.map(function (r, k) {
			var row = el('tr', rowClass ? rowClass(r) : '');
			cols.forEach(function (c) {
				var td = el('td', c.cls || '', c.f(r));
				if (c.title)
					td.title = c.title(r);
				row.appendChild(td);
			});
			if (onRow)
				onRow(row, r);
			return { r: r, row: row, k: k };
		});
		t.id = id + '-table';
		cols.forEach(function (c, ci) {
			var th = el('th', c.cls === 'num' ? 'num' : ''), b = el('button', 'sort', c.h);
			b.type = 'button';
			b.title = 'sort by ' + c.h;
			b.addEventListener('click', function () {
				var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
				var key = c.key || function (r) { return String(c.f(r)); };
				ths.forEach(function (o) { o.removeAttribute('aria-sort'); });
				th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
				items.sort(function (x, y) {
					var a = key(x.r), b2 = key(y.r);
					var d = typeof a === 'number' && typeof b2 === 'number' ? a - b2 :
						String(a).localeCompare(String(b2), undefined, { numeric: true });
					return d * dir || x.k - y.k;
				});
				items.forEach(function (it) { body.appendChild(it.row); });
			});
			th.appendChild(b);
			ths.push(th);
			tr.appendChild(th);
		});
		head.appendChild(tr);
		t.appendChild(head);
		items.forEach(function (it) { body.appendChild(it.row); });
		t.appendChild(body);
		box.appendChild(t);
		var pc = cols.filter(function (c) { return c.path; })[0];
		if (pc)
			filtered.push({ items: items, text: function (r) { return String(pc.f(r)).toLowerCase(); } });
	}
	function bytesCol(h, key) {
		return { h: h, cls: 'num', f: function (r) { return human(r[key]); },
			key: function (r) { return Number(r[key]) || 0; },
			title: function (r) { return grouped(r[key]) + ' bytes'; } };
	}
	function intCol(h, key) {
		return { h: h, cls: 'num', f: function (r) { return grouped(r[key] || 0); },
			key: function (r) { return Number(r[key]) || 0; } };
	}
	function pathCol(h, key) {
		return { h: h, cls: 'path', path: true, f: function (r) { return shown(r[key]); } };
	}

	table('rules', stats.rules, [
		intCol('#', 'index'),
		{ h: 'Rule', cls: 'path', f: function (r) { return shown(r.source) + ':' + r.line; } },
		{ h: 'Pattern', cls: 'path', f: function (r) { return shown(r.pattern); } },
		intCol('Excluded files', 'excluded_files'), bytesCol('Excluded bytes', 'excluded_bytes'),
		intCol('Re-included files', 'included_files'), bytesCol('Re-included bytes', 'included_bytes'),
		intCol('Decided', 'decided'),
		/* r.use is lint's verdict on the rule (src/ruleuse.c): the
		 * subsumed one of two is the redundant one. */
		{ h: 'Dead', f: function (r) {
			if (!r.dead)
				return '';
			if (r.use === 'redundant')
				return 'redundant: rule #' + r.covered_by + ' matches all it does';
			if (r.use === 'overridden')
				return 'overridden: other rules decide all it matches';
			return 'dead: matches nothing';
		} },
	], function (r) { return r.dead ? 'dead' : ''; }, function (row, r) {
		row.addEventListener('mouseenter', function () { highlight(r.index); });
		row.addEventListener('mouseleave', function () { highlight(null); });
	});
	table('largest-files', stats.largest_files, [pathCol('Path', 'path'), bytesCol('Size', 'bytes')]);
	table('largest-dirs', stats.largest_dirs,
		[pathCol('Path', 'path'), intCol('Files', 'files'), bytesCol('Size', 'bytes')]);
	/* Bytes by extension, from the tree data (the stats document counts
	 * sent files only): a share of the bytes sent and one of the bytes
	 * excluded, each column adding up to 100 % with the rows for the other
	 * extensions and for what lies in directories never entered (no
	 * names there). */
	var extRows = [], extSent = 0, extExcl = 0, ext = tree.ext;
	if (ext) {
		ext.rows.forEach(function (r) {
			extRows.push({ ext: r[0] ? shown(r[0]) : '(none)', sf: r[1], sb: r[2], xf: r[3], xb: r[4] });
		});
		if (ext.other[0])
			extRows.push({ ext: '(' + grouped(ext.other[0]) + ' other extensions)', sf: ext.other[1],
				sb: ext.other[2], xf: ext.other[3], xb: ext.other[4] });
		if (ext.unentered[0] || ext.unentered[1])
			extRows.push({ ext: '(in excluded directories not entered)', sf: 0, sb: 0,
				xf: ext.unentered[0], xb: ext.unentered[1] });
	}
	extRows.forEach(function (r) {
		extSent += r.sb;
		extExcl += r.xb;
	});
	function shareCol(h, key, whole) {
		return { h: h, cls: 'num', key: function (r) { return r[key]; },
			f: function (r) { return whole ? pct(100 * r[key] / whole) : '\u2013'; } };
	}
	table('extensions', extRows, [
		{ h: 'Extension', cls: 'path', f: function (r) { return r.ext; } },
		intCol('Sent files', 'sf'), bytesCol('Sent bytes', 'sb'),
		shareCol('Share of sent bytes', 'sb', extSent),
		intCol('Excluded files', 'xf'), bytesCol('Excluded bytes', 'xb'),
		shareCol('Share of excluded bytes', 'xb', extExcl),
	]);
	if (extRows.length)
		$('extensions').appendChild(el('p', 'sub', 'Shares of the ' + human(extSent) + ' sent and the ' +
			human(extExcl) + ' excluded in regular files (a hard link counts with its size, as in the ' +
			'treemap).'));
	table('suspicious', stats.suspicious, [pathCol('Path', 'path'),
		{ h: 'Kind', f: function (r) { return r.kind; } },
		intCol('Files', 'files'), bytesCol('Size', 'bytes')]);
	function budgetValue(r, key) {
		return /size|bytes/.test(r.name) ? human(r[key]) + ' (' + grouped(r[key]) + ')' : grouped(r[key]);
	}
	table('budgets', stats.budgets, [
		{ h: 'Budget', f: function (r) { return r.name; } },
		{ h: 'Limit', cls: 'num', f: function (r) { return budgetValue(r, 'limit'); } },
		{ h: 'Value', cls: 'num', f: function (r) { return budgetValue(r, 'value'); } },
		{ h: 'Status', f: function (r) { return r.ok ? 'ok' : 'over budget'; } },
	], function (r) { return r.ok ? '' : 'fail'; });

	/* ---- the tree ---- */
	var N = tree.nodes.length, P = [], K = [], NAME = [], S = [], X = [], R = [], F = [], E = [], U = [];
	var kids = [];
	for (var i = 0; i < N; i++) {
		var a = tree.nodes[i];
		P.push(a[0]); K.push(a[1]); NAME.push(a[2]); S.push(a[3]); X.push(a[4]);
		R.push(a[5]); F.push(a[6]); E.push(a[7]); U.push(useKnown ? a[8] || 0 : 0);
		kids.push([]);
		if (a[0] >= 0)
			kids[a[0]].push(i);
	}
	/* The view: box area is the bytes sent ('sent') or every byte scanned
	 * ('scanned', sent + excluded).  Sent is the default when the sent bytes
	 * are under SENT_VIEW_BELOW of the scanned ones: in the scanned view
	 * they would get less than a tenth of the canvas. */
	var SENT_VIEW_BELOW = 0.1;
	var view = N && S[0] > 0 && S[0] < SENT_VIEW_BELOW * (S[0] + X[0]) ? 'sent' : 'scanned';
	function size(n) { return view === 'sent' ? S[n] : S[n] + X[n]; }

	function label(n) {
		if (K[n] === 'r')
			return '(' + grouped(F[n]) + ' smaller file' + (F[n] === 1 ? '' : 's') + ')';
		return n === 0 ? '.' : shown(NAME[n]);
	}
	function path(n) {
		if (n === 0)
			return '.';
		var parts = [];
		for (var m = n; m > 0; m = P[m])
			parts.unshift(K[m] === 'r' ? label(m) : shown(NAME[m]));
		return parts.join('/');
	}
	/* source:line and the rule's text (or <line N> for an ignore file
	 * outside the context: the tree data already carries that) */
	function ruleLabel(r) {
		var x = tree.rules[r];
		return x ? shown(x[0]) + ':' + x[1] + ' ' + shown(x[2]) : 'rule ' + r;
	}
	function ruleText(r) {
		var x = tree.rules[r];
		return x ? shown(x[0]) + ':' + x[1] + ':' + shown(x[2]) : 'rule ' + r;
	}
	function canZoom(n) { return kids[n].some(function (c) { return size(c) > 0; }); }

	/* Squarified layout (Bruls, Huizing, van Wijk) of items [{n, v}] sorted
	 * by v descending into the rectangle. */
	function squarify(items, x, y, w, h) {
		var out = [], sum = 0, i = 0;
		items.forEach(function (it) { sum += it.v; });
		if (sum <= 0 || w <= 0 || h <= 0)
			return out;
		var scale = w * h / sum;
		while (i < items.length) {
			var side = Math.min(w, h), row = [], rs = 0, rmax = 0, rmin = Infinity, best = Infinity;
			while (i < items.length) {
				var ar = items[i].v * scale, s2 = rs + ar;
				var mx = Math.max(rmax, ar), mn = Math.min(rmin, ar);
				var worst = Math.max(side * side * mx / (s2 * s2), s2 * s2 / (side * side * mn));
				if (row.length && worst > best)
					break;
				row.push(items[i]);
				rs = s2; rmax = mx; rmin = mn; best = worst; i++;
			}
			var thick = rs / side, pos = 0;
			row.forEach(function (it) {
				var len = it.v * scale / thick;
				if (w >= h)
					out.push({ n: it.n, x: x, y: y + pos, w: thick, h: len });
				else
					out.push({ n: it.n, x: x + pos, y: y, w: len, h: thick });
				pos += len;
			});
			if (w >= h) {
				x += thick; w -= thick;
			} else {
				y += thick; h -= thick;
			}
		}
		return out;
	}
	function layout(n, x, y, w, h) {
		var items = [];
		kids[n].forEach(function (c) { if (size(c) > 0) items.push({ n: c, v: size(c) }); });
		items.sort(function (a, b) { return b.v - a.v || a.n - b.n; });
		return squarify(items, x, y, w, h);
	}

	var box = $('treemap'), canvas = box.querySelector('canvas'), tip = $('tooltip');
	var g = canvas.getContext('2d');
	var cur = 0, mode = useKnown ? 'used' : 'sent', hl = null, hover = -1, boxes = [], framed = {}, drawn = 0;
	box.dataset.sentColour = SENT;
	box.dataset.excludedColour = EXCL;
	box.dataset.reincludedColour = REINCL;
	box.dataset.usedColour = USED;
	box.dataset.unusedColour = UNUSED;
	box.dataset.useKnown = String(useKnown);

	/* Rules ranked by the bytes of the boxes they decide in the view (the
	 * leaves: files, directories not entered); the first PALETTE.length
	 * get a colour of their own. */
	var colourOf = {};
	function rankRules() {
		var bytes = {};
		for (var n = 1; n < N; n++)
			if (R[n] >= 0 && (K[n] === 'f' || K[n] === 'p') && size(n) > 0)
				bytes[R[n]] = (bytes[R[n]] || 0) + size(n);
		colourOf = {};
		Object.keys(bytes).map(Number).sort(function (a, b) {
			return bytes[b] - bytes[a] || a - b;
		}).slice(0, PALETTE.length).forEach(function (r, k) { colourOf[r] = PALETTE[k]; });
	}
	function ruleColour(r) { return r < 0 ? NO_RULE : colourOf[r] || OTHER_RULES; }
	/* Dark text on a light fill, white on a dark one. */
	function ink(hex) {
		var v = parseInt(hex.slice(1), 16);
		var l = 0.299 * (v >> 16) + 0.587 * (v >> 8 & 255) + 0.114 * (v & 255);
		return l > 160 ? '#222' : '#fff';
	}
	/* the colour most of a box is filled with */
	function mainColour(n) {
		if (mode === 'rule')
			return ruleColour(R[n]);
		if (mode === 'used') {
			var parts = useParts(n), best = parts[0];
			parts.forEach(function (p) { if (p[1] > best[1]) best = p; });
			return best[0];
		}
		return reincluded(n) ? REINCL : view === 'sent' || S[n] >= X[n] ? SENT : EXCL;
	}
	function reincluded(n) { return K[n] === 'f' && S[n] > 0 && R[n] >= 0; }

	/* [colour, bytes] of a box by use: read, unread, and in the scanned
	 * view excluded */
	function useParts(n) {
		return [[USED, U[n]], [UNUSED, S[n] - U[n]], [EXCL, view === 'sent' ? 0 : X[n]]];
	}
	/* the box split in stripes along its longer side, one per part */
	function stripes(parts, r) {
		var whole = 0, pos = 0;
		parts.forEach(function (p) { whole += p[1]; });
		if (!whole)
			return;
		parts.forEach(function (p) {
			var f = p[1] / whole;
			if (!f)
				return;
			g.fillStyle = p[0];
			if (r.w >= r.h)
				g.fillRect(r.x + r.w * pos, r.y, r.w * f, r.h);
			else
				g.fillRect(r.x, r.y + r.h * pos, r.w, r.h * f);
			pos += f;
		});
	}
	function fill(n, r) {
		if (mode === 'rule') {
			g.fillStyle = ruleColour(R[n]);
			g.fillRect(r.x, r.y, r.w, r.h);
			return;
		}
		if (mode === 'used') {
			stripes(useParts(n), r);
			return;
		}
		var total = size(n), fs = view === 'sent' ? 1 : total ? S[n] / total : 0;
		if (fs >= 1 || fs <= 0) {
			g.fillStyle = reincluded(n) ? REINCL : fs > 0 ? SENT : EXCL;
			g.fillRect(r.x, r.y, r.w, r.h);
			return;
		}
		g.fillStyle = SENT;
		if (r.w >= r.h) {
			g.fillRect(r.x, r.y, r.w * fs, r.h);
			g.fillStyle = EXCL;
			g.fillRect(r.x + r.w * fs, r.y, r.w * (1 - fs), r.h);
		} else {
			g.fillRect(r.x, r.y, r.w, r.h * fs);
			g.fillStyle = EXCL;
			g.fillRect(r.x, r.y + r.h * fs, r.w, r.h * (1 - fs));
		}
	}
	/* s as it fits in w pixels: whole, or cut to the most code points that
	 * fit with an ellipsis (a binary search over measureText). */
	function fit(s, w) {
		if (g.measureText(s).width <= w)
			return s;
		var cp = Array.from(s), lo = 0, hi = cp.length - 1;
		while (lo < hi) {
			var mid = (lo + hi + 1) >> 1;
			if (g.measureText(cp.slice(0, mid).join('') + '\u2026').width <= w)
				lo = mid;
			else
				hi = mid - 1;
		}
		return lo ? cp.slice(0, lo).join('') + '\u2026' : '';
	}
	function text(s, x, y, w, colour) {
		if (w < 24)
			return;
		s = fit(s, w);
		if (!s)
			return;
		g.save();
		g.beginPath();
		g.rect(x, y - 12, w, 16);
		g.clip();
		g.fillStyle = colour;
		g.fillText(s, x, y);
		g.restore();
	}
	function leaf(n, r, depth) {
		fill(n, r);
		g.strokeStyle = LINE;
		g.lineWidth = 1;
		g.strokeRect(r.x + 0.5, r.y + 0.5, Math.max(0, r.w - 1), Math.max(0, r.h - 1));
		if (r.h >= 16)
			text(label(n), r.x + 4, r.y + 13, r.w - 8, ink(mainColour(n)));
		boxes.push({ n: n, x: r.x, y: r.y, w: r.w, h: r.h, depth: depth });
		drawn++;
	}
	function draw() {
		var dpr = window.devicePixelRatio || 1, W = box.clientWidth, H = box.clientHeight;
		canvas.width = Math.max(1, Math.round(W * dpr));
		canvas.height = Math.max(1, Math.round(H * dpr));
		g.setTransform(dpr, 0, 0, dpr, 0, 0);
		g.clearRect(0, 0, W, H);
		g.font = '12px sans-serif';
		rankRules();
		boxes = [];
		drawn = 0;
		if (N) {
			layout(cur, 0, 0, W, H).forEach(function (r) {
				if (r.w < 0.5 || r.h < 0.5)
					return;
				if (canZoom(r.n) && r.w > 60 && r.h > 44) {
					/* a directory: a title strip and its children inside */
					g.fillStyle = DIR_BG;
					g.fillRect(r.x, r.y, r.w, r.h);
					/* the name first: the size only where both fit */
					var title = label(r.n) + '  ' + human(size(r.n));
					text(g.measureText(title).width <= r.w - 8 ? title : label(r.n), r.x + 4, r.y + 13,
						r.w - 8, '#222');
					boxes.push({ n: r.n, x: r.x, y: r.y, w: r.w, h: r.h, depth: 1 });
					drawn++;
					layout(r.n, r.x + 2, r.y + 18, r.w - 4, r.h - 20).forEach(function (c) {
						if (c.w >= 0.5 && c.h >= 0.5)
							leaf(c.n, c, 2);
					});
					g.strokeStyle = '#888';
					g.strokeRect(r.x + 0.5, r.y + 0.5, r.w - 1, r.h - 1);
				} else {
					leaf(r.n, r, 1);
				}
			});
		}
		/* the directories drawn with their children inside (a frame, not a fill) */
		framed = {};
		boxes.forEach(function (b) {
			if (b.depth === 2)
				framed[P[b.n]] = 1;
		});
		matches = 0;
		if (hit) {
			boxes.forEach(function (b) {
				if (hit[b.n]) {
					matches++;
					return;
				}
				if (!framed[b.n]) {
					g.fillStyle = 'rgba(255,255,255,0.75)';
					g.fillRect(b.x, b.y, b.w, b.h);
				}
			});
			boxes.forEach(function (b) {
				if (hit[b.n] === 2) {
					g.strokeStyle = '#000';
					g.lineWidth = 2;
					g.strokeRect(b.x + 1, b.y + 1, b.w - 2, b.h - 2);
				}
			});
		}
		box.dataset.matches = String(matches);
		boxes.forEach(function (b) {
			if ((hl !== null && R[b.n] === hl && b.n !== 0) || b.n === hover) {
				g.strokeStyle = b.n === hover ? '#000' : '#ffd700';
				g.lineWidth = 2;
				g.strokeRect(b.x + 1, b.y + 1, b.w - 2, b.h - 2);
			}
		});
		var rect = canvas.getBoundingClientRect();
		box.dataset.boxes = String(drawn);
		box.dataset.level = path(cur);
		box.dataset.view = view;
		$('view').value = view;
		$('colour-mode').value = mode;
		box.dataset.colourMode = mode;
		note();
		writeHash();
		box.dataset.rect = [Math.round(rect.left + window.scrollX), Math.round(rect.top + window.scrollY),
			Math.round(rect.width), Math.round(rect.height)].join(',');
		crumbs();
		legend();
	}
	function crumbs() {
		var nav = $('breadcrumb'), chain = [];
		nav.textContent = '';
		for (var m = cur; m >= 0; m = P[m])
			chain.unshift(m);
		chain.forEach(function (m, k) {
			if (k)
				nav.appendChild(document.createTextNode(' / '));
			var a = el(m === cur ? 'span' : 'a', '', label(m));
			if (m !== cur)
				a.addEventListener('click', function () { zoom(m); });
			nav.appendChild(a);
		});
		$('zoom-out').disabled = cur === 0;
	}
	function legend() {
		var lg = $('legend'), seen = {}, ranked = [], others = 0, none = false, re = false;
		lg.textContent = '';
		function item(colour, s, title) {
			var it = el('span', 'item'), sw = el('span', 'sw');
			sw.style.background = colour;
			it.appendChild(sw);
			it.appendChild(document.createTextNode(s));
			if (title)
				it.title = title;
			lg.appendChild(it);
		}
		boxes.forEach(function (b) {
			var r = R[b.n];
			if (framed[b.n])
				return;
			re = re || reincluded(b.n);
			if (r < 0)
				none = true;
			else if (!seen[r]) {
				seen[r] = 1;
				if (colourOf[r])
					ranked.push(r);
				else
					others++;
			}
		});
		if (mode === 'used') {
			var have = {};
			boxes.forEach(function (b) {
				if (!framed[b.n])
					useParts(b.n).forEach(function (p) { if (p[1] > 0) have[p[0]] = 1; });
			});
			if (have[USED])
				item(USED, 'read by the build', 'sent, and read by an instruction of the Dockerfile');
			if (have[UNUSED])
				item(UNUSED, 'sent, read by nothing', 'sent, but no instruction of the Dockerfile reads it');
			if (have[EXCL])
				item(EXCL, 'excluded');
			return;
		}
		if (mode === 'sent') {
			item(SENT, 'sent');
			if (re)
				item(REINCL, 're-included by an exception');
			if (view === 'scanned')
				item(EXCL, 'excluded');
			return;
		}
		ranked.sort(function (a, b) {
			return PALETTE.indexOf(colourOf[a]) - PALETTE.indexOf(colourOf[b]);
		}).forEach(function (r) { item(colourOf[r], ruleLabel(r), ruleText(r)); });
		if (others)
			item(OTHER_RULES, 'other rules (' + others + ' here)', 'the rules with fewer bytes than the ' +
				PALETTE.length + ' coloured ones');
		if (none)
			item(NO_RULE, 'no rule');
	}
	/* ---- search: a case-insensitive substring of the path as shown ---- */
	var query = '', lowPath = null, hit = null, matches = 0;
	function search(q) {
		query = String(q || '');
		var ql = query.toLowerCase();
		filtered.forEach(function (t) {
			t.items.forEach(function (it) { it.row.hidden = !!ql && t.text(it.r).indexOf(ql) < 0; });
		});
		hit = null;
		if (ql) {
			if (!lowPath) {
				lowPath = [];
				for (var n = 0; n < N; n++)
					lowPath.push(path(n).toLowerCase());
			}
			/* 2: the path matches; 1: something below it does */
			hit = new Uint8Array(N);
			for (var m = N - 1; m > 0; m--) {
				if (lowPath[m].indexOf(ql) >= 0)
					hit[m] = 2;
				if (hit[m] && !hit[P[m]])
					hit[P[m]] = 1;
			}
		}
		if ($('search').value !== query)
			$('search').value = query;
	}
	function zoom(n) {
		cur = n;
		hover = -1;
		tip.hidden = true;
		draw();
	}
	function highlight(r) {
		hl = r;
		draw();
	}
	function at(ev) {
		var rect = canvas.getBoundingClientRect(), x = ev.clientX - rect.left, y = ev.clientY - rect.top;
		var found = null;
		boxes.forEach(function (b) {
			if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h && (!found || b.depth >= found.depth))
				found = b;
		});
		return { b: found, x: x, y: y };
	}
	function describe(n) {
		var lines = [path(n)];
		if (K[n] === 'f') {
			lines.push((S[n] ? 'sent' : 'excluded') + ' file, ' + human(size(n)) + ' (' + grouped(size(n)) + ' bytes)');
			if (useKnown && S[n])
				lines.push(U[n] ? 'read by the build' : 'read by nothing the build runs');
		} else {
			lines.push(human(size(n)) + ' (' + grouped(size(n)) + ' bytes) in ' + grouped(F[n]) + ' files');
			lines.push('sent ' + human(S[n]) + ', excluded ' + human(X[n]));
			if (useKnown)
				lines.push('read by the build ' + human(U[n]) + ', read by nothing ' + human(S[n] - U[n]));
		}
		if (K[n] === 'p')
			lines.push('excluded directory, not entered: ' + grouped(F[n]) + ' files, ' +
				grouped(E[n]) + ' directories below');
		if (K[n] !== 'r')
			lines.push(R[n] >= 0 ? 'rule ' + ruleText(R[n]) : 'no rule decided it');
		return lines;
	}
	/* One line of the tooltip: its parts up to each '/', ':' or space as
	 * inline blocks, so that a long path wraps between its parts and never
	 * at a '-' or '.' within one; only a part wider than the tooltip alone
	 * is broken inside (the CSS's overflow-wrap: anywhere). */
	function tipLine(s) {
		var d = el('div');
		s.split(/(?<=[\/: ])/).forEach(function (part, k) {
			if (k)
				d.appendChild(document.createElement('wbr'));
			d.appendChild(el('span', 'part', part));
		});
		return d;
	}
	/* Beside the pointer, flipped to its other side near the right and
	 * bottom edges of the window, and kept inside the window (8 px). */
	function placeTip(cx, cy) {
		var m = 8, vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
		tip.style.left = '0px';
		tip.style.top = '0px';
		var w = tip.offsetWidth, h = tip.offsetHeight, x = cx + 14, y = cy + 16;
		if (x + w > vw - m)
			x = cx - 14 - w;
		if (y + h > vh - m)
			y = cy - 12 - h;
		tip.style.left = Math.max(m, Math.min(x, vw - m - w)) + 'px';
		tip.style.top = Math.max(m, Math.min(y, vh - m - h)) + 'px';
	}
	canvas.addEventListener('mousemove', function (ev) {
		var h = at(ev);
		if (!h.b) {
			tip.hidden = true;
			return;
		}
		if (h.b.n !== hover) {
			hover = h.b.n;
			hl = R[h.b.n] >= 0 ? R[h.b.n] : null;
			draw();
		}
		tip.textContent = '';
		describe(h.b.n).forEach(function (line) { tip.appendChild(tipLine(line)); });
		tip.hidden = false;
		placeTip(ev.clientX, ev.clientY);
	});
	canvas.addEventListener('mouseleave', function () {
		tip.hidden = true;
		hover = -1;
		hl = null;
		draw();
	});
	canvas.addEventListener('click', function (ev) {
		var h = at(ev);
		/* zoom into the directory drawn at this level (the outer box) */
		var top = boxes.filter(function (b) {
			return b.depth === 1 && h.x >= b.x && h.x < b.x + b.w && h.y >= b.y && h.y < b.y + b.h;
		})[0];
		if (top && canZoom(top.n))
			zoom(top.n);
	});
	$('zoom-out').addEventListener('click', function () {
		if (cur > 0)
			zoom(P[cur]);
	});
	document.addEventListener('keydown', function (ev) {
		if (ev.key === 'Escape' && cur > 0)
			zoom(P[cur]);
	});
	$('colour-mode').addEventListener('change', function (ev) {
		mode = ev.target.value === 'rule' ? 'rule' : ev.target.value === 'used' && useKnown ? 'used' : 'sent';
		draw();
	});
	$('search').addEventListener('input', function (ev) {
		search(ev.target.value);
		draw();
	});
	$('view').addEventListener('change', function (ev) {
		setView(ev.target.value);
		draw();
	});
	/* In the sent view a level without sent bytes has nothing to draw:
	 * show the nearest one above that has. */
	function setView(v) {
		view = v === 'sent' ? 'sent' : 'scanned';
		while (view === 'sent' && cur > 0 && !S[cur])
			cur = P[cur];
	}

	/* The state in the URL fragment (#view=sent&colour=rule&dir=src/lib),
	 * so that a link shows what its sender saw.  dir is the path as shown
	 * (bytes that are not UTF-8 as \xNN). */
	function readHash() {
		var q = new URLSearchParams(location.hash.replace(/^#/, '')), d = q.get('dir'), c = q.get('colour');
		search(q.get('q') || '');
		if (c === 'rule' || c === 'sent' || (c === 'used' && useKnown))
			mode = c;
		if (q.get('view') === 'sent' || q.get('view') === 'scanned')
			view = q.get('view');
		cur = 0;
		if (d && d !== '.') {
			d.split('/').every(function (part) {
				var next = kids[cur].filter(function (k) {
					return K[k] !== 'r' && shown(NAME[k]) === part && canZoom(k);
				})[0];
				if (next === undefined)
					return false;
				cur = next;
				return true;
			});
		}
		setView(view);
	}
	var lastHash = null;
	function writeHash() {
		var q = new URLSearchParams();
		q.set('view', view);
		q.set('colour', mode);
		if (cur > 0)
			q.set('dir', path(cur));
		if (query)
			q.set('q', query);
		var h = '#' + q.toString();
		if (h === location.hash)
			return;
		lastHash = h;
		try {
			history.replaceState(null, '', h);
		} catch (e) {
			location.replace(h);
		}
	}
	window.addEventListener('hashchange', function () {
		if (location.hash === lastHash)
			return;
		readHash();
		draw();
	});
	window.addEventListener('resize', draw);
	var shownFiles = 0;
	for (var n = 0; n < N; n++)
		if (K[n] === 'f')
			shownFiles++;
	function note() {
		$('treemap-note').textContent = (view === 'sent' ? 'Box area is the bytes sent (' + human(S[cur]) +
			' here; excluded bytes have no area). ' : 'Box area is the bytes scanned, sent and excluded (' +
			human(S[cur] + X[cur]) + ' here). ') + grouped(N) + ' boxes in all (' + grouped(shownFiles) +
			' files drawn one by one; smaller files are grouped per directory). Click a directory to zoom in.';
	}
	readHash();
	draw();
})();
