exports.handler = async (event) => {
  console.info("EVENT\n" + JSON.stringify(event, null, 2))
};
