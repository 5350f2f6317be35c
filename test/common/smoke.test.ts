import t from 'tap';
t.test('smoke: arithmetic holds', async (t) => {
  t.equal(1 + 1, 2);
});
