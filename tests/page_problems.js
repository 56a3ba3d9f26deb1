// What a reader would see as broken in a page of the book, as a list of sentences.
// tests/test_browser.py runs this in the page (Selenium's execute_script), once MathJax is done;
// arguments[0] is true at desktop width, where code and tables must also fit their column.
const wide = arguments[0];
const problems = [];
const visible = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
const label = (el) => {
  const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ");
  return el.tagName.toLowerCase() + ": " + text.slice(0, 70);
};
const article = document.querySelector("article.bd-article") || document.body;
const column = article.getBoundingClientRect();

// A Markdown table that was not rendered stays as text with its |---| separator row (which
// CommonMark's typography may have turned into an em dash).
for (const el of article.querySelectorAll("p, .cell_output pre, .output pre, li")) {
  if (/\|\s*:?(-{3,}|[—–]+):?\s*\|/.test(el.textContent)) problems.push("raw table text: " + label(el));
}
// The page itself must not scroll sideways.
const pageWidth = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
if (pageWidth > window.innerWidth + 1) {
  problems.push(`page is ${pageWidth} px wide in a ${window.innerWidth} px window`);
}
// Elements that stick out of the page: the usual cause of the above.
for (const el of article.querySelectorAll("*")) {
  const box = el.getBoundingClientRect();
  if (box.width > 0 && box.right > window.innerWidth + 1 && visible(el)) {
    let inside = el.parentElement, scrolls = false;
    while (inside && inside !== article) {
      const style = getComputedStyle(inside);
      if (/(auto|scroll|hidden)/.test(style.overflowX)) { scrolls = true; break; }
      inside = inside.parentElement;
    }
    if (!scrolls) { problems.push(`sticks out of the page by ${Math.round(box.right - window.innerWidth)} px: ` + label(el)); break; }
  }
}
if (wide) {
  // At desktop width, code and tables fit their column: nothing scrolls sideways.
  for (const el of article.querySelectorAll("pre")) {
    if (visible(el) && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`code wider than its column (${el.scrollWidth} > ${el.clientWidth} px): ` + label(el));
    }
  }
  for (const el of article.querySelectorAll("table")) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    const holder = el.parentElement;
    if (box.width > column.width + 1 || holder.scrollWidth > holder.clientWidth + 1) {
      problems.push(`table wider than its column (${Math.round(box.width)} > ${Math.round(column.width)} px): ` + label(el));
    }
  }
  // The page's contents in the right-hand column fit it.
  const toc = document.querySelector(".bd-sidebar-secondary");
  if (toc && visible(toc)) {
    for (const el of toc.querySelectorAll("a")) {
      if (el.scrollWidth > el.clientWidth + 1) problems.push("contents entry wider than its column: " + label(el));
    }
  }
}
for (const img of document.querySelectorAll("img")) {
  if (!(img.getAttribute("alt") || "").trim()) problems.push("image without alt text: " + img.getAttribute("src"));
  else if (visible(img) && img.naturalWidth === 0) problems.push("image did not load: " + img.getAttribute("src"));
}
// Math: every math node is typeset, and no TeX delimiters are left in the text.
for (const el of article.querySelectorAll(".math")) {
  if (!el.querySelector("mjx-container")) problems.push("math not rendered: " + label(el));
}
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
  acceptNode: (node) =>
    !visible(node.parentElement) ||
    node.parentElement.closest("pre, code, script, style, mjx-container, .math, .highlight, textarea")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
});
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const text = node.textContent;
  if (/\$[^$\s][^$]*\$|\\\(|\\\[|\\(frac|sum|begin|mathrm|alpha|gamma|delta)\b/.test(text)) {
    problems.push("raw TeX: " + text.trim().slice(0, 70));
  }
}
// One search box a reader can see.
const searches = [...document.querySelectorAll(".search-button-field, .bd-search")].filter(visible);
if (searches.length > 1) problems.push(`${searches.length} search boxes are visible`);
return problems;
