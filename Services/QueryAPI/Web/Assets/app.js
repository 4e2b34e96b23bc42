// Every screen: the search box, the live stream, the call pop-ups; then what the screen itself needs.
import { attachPicker, screenOf } from './picker.js';
import { startLive } from './live.js';
import { startCalls } from './calls.js';

const search = document.getElementById('search-input');
if (search) {
  attachPicker(search, document.getElementById('search-results'), {
    choose: (match) => {
      const path = screenOf(match);
      if (path) window.location.assign(path);
    },
  });
}

const screen = document.body.dataset.screen;
if (screen) {
  startLive();
  startCalls();
}
if (screen === 'timeline') import('./timeline.js').then((module) => module.startTimeline());
if (screen === 'settings') import('./settings.js').then((module) => module.startSettings());
if (screen === 'print') {
  document.getElementById('print')?.addEventListener('click', () => window.print());
}
