console.log('ecmpsim: CLI under construction');
